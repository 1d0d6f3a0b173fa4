/**
 * Chaos: a webhook flood. 10,000 requests over loopback through a keep-alive agent, 50 at a time,
 * while ten real emulated meetings stream through the same server: signed duplicates of those
 * meetings' start webhooks, signed stops of unknown streams, unknown events and URL validations,
 * mixed with unsigned, wrongly signed and replayed (stale) requests. Every answer is checked
 * against its class, each meeting is joined exactly once and loses nothing, the server stays
 * healthy and its memory bounded.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { Emulator } from '../../src/emulator/index.js';
import { signWebhook, urlValidationResponse } from '../../src/protocol/index.js';
import type { StreamEvent } from '../../src/webhook/handler.js';
import { CREDS, TOKEN, chaosScenario, cleanupDirs, delivered, percentile, startServe } from './helpers.js';

after(cleanupDirs);

const TOTAL = 10_000;
const CONCURRENCY = 50;
const MEETINGS = 10;

type Kind = 'start-dup' | 'stop-unknown' | 'unknown-event' | 'url-validation' | 'unsigned' | 'bad-signature' | 'stale';
const MIX: [Kind, number][] = [
  ['start-dup', 3],
  ['stop-unknown', 2],
  ['unknown-event', 1],
  ['url-validation', 1],
  ['unsigned', 1],
  ['bad-signature', 1],
  ['stale', 1],
];

interface Req {
  kind: Kind;
  body: string;
  headers: Record<string, string>;
  plainToken?: string;
}

function post(agent: Agent, port: number, r: Req): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/webhook', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(r.body), ...r.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

describe('chaos: webhook flood', () => {
  it(`${TOTAL.toLocaleString('en')} mixed requests, ${CONCURRENCY} at a time, during ${MEETINGS} live meetings`, { timeout: 90_000 }, async () => {
    const serve = await startServe({ dataDir: null });
    const acted: StreamEvent[] = [];
    const handle = serve.runtime.registry.handle.bind(serve.runtime.registry);
    serve.runtime.registry.handle = (e) => {
      acted.push(e);
      handle(e);
    };
    const emulator = new Emulator({ ...CREDS, secretToken: TOKEN, webhookUrl: serve.webhookUrl, scenario: chaosScenario(4), meetings: MEETINGS, keepAliveIntervalMs: 500, recordSent: true, seed: 3 });
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    try {
      await emulator.start();
      const starts = emulator.streams.map((s) => JSON.stringify({ event: 'meeting.rtms_started', event_ts: Date.now(), payload: emulator.startPayload(s) }));

      // The requests, deterministic order: the mix repeated, classes interleaved.
      const pattern = MIX.flatMap(([k, n]) => Array<Kind>(n).fill(k));
      const reqs: Req[] = [];
      for (let i = 0; i < TOTAL; i++) {
        const kind = pattern[(i * 7) % pattern.length];
        let body: string;
        let plainToken: string | undefined;
        switch (kind) {
          case 'start-dup':
            body = starts[i % starts.length];
            break;
          case 'stop-unknown':
            body = JSON.stringify({ event: 'meeting.rtms_stopped', event_ts: Date.now(), payload: { meeting_uuid: `m${i}==`, rtms_stream_id: `flood-${i}` } });
            break;
          case 'unknown-event':
            body = JSON.stringify({ event: 'meeting.participant_joined', event_ts: Date.now(), payload: { object: { id: i } } });
            break;
          case 'url-validation':
            plainToken = `pt-${i}`;
            body = JSON.stringify({ event: 'endpoint.url_validation', event_ts: Date.now(), payload: { plainToken } });
            break;
          default:
            // Unsigned classes carry what an attacker would most like to get through: a start.
            body = JSON.stringify({ event: 'meeting.rtms_started', event_ts: Date.now(), payload: { meeting_uuid: `evil${i}==`, rtms_stream_id: `evil-${i}`, server_urls: 'ws://127.0.0.1:9/evil' } });
        }
        const headers =
          kind === 'unsigned' ? {} : kind === 'bad-signature' ? signWebhook('not-the-token', body) : kind === 'stale' ? signWebhook(TOKEN, body, Date.now() - 6 * 60_000) : signWebhook(TOKEN, body);
        reqs.push({ kind, body, headers, plainToken });
      }

      const port = Number(new URL(serve.url).port);
      const rssBefore = process.memoryUsage().rss;
      const running = emulator.run();
      const answers = new Array<{ status: number; body: string; ms: number }>(TOTAL);
      let next = 0;
      let rssPeak = rssBefore;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < TOTAL) {
            const i = next++;
            answers[i] = await post(agent, port, reqs[i]);
            if (i % 500 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
          }
        }),
      );
      const elapsedS = (performance.now() - t0) / 1000;
      const summary = await running;
      await serve.settled();

      // Every answer matches its class.
      const byKind = new Map<Kind, number>();
      for (let i = 0; i < TOTAL; i++) {
        const { kind, plainToken } = reqs[i];
        const a = answers[i];
        byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
        const json = JSON.parse(a.body);
        if (kind === 'unsigned' || kind === 'bad-signature' || kind === 'stale') {
          assert.equal(a.status, 401, `#${i} ${kind}`);
          assert.equal(json.error.code, kind === 'stale' ? 'WEBHOOK_STALE_TIMESTAMP' : 'WEBHOOK_BAD_SIGNATURE', `#${i} ${kind}`);
        } else {
          assert.equal(a.status, 200, `#${i} ${kind}: ${a.body}`);
          if (kind === 'url-validation') assert.deepEqual(json, urlValidationResponse(TOKEN, plainToken!));
          else if (kind === 'unknown-event') assert.deepEqual(json, { ok: true, ignored: 'meeting.participant_joined' });
          else assert.deepEqual(json, { ok: true });
        }
      }
      // Only signed lifecycle events reached the registry; each meeting's start exactly once.
      const startsActed = acted.filter((e) => e.lifecycle === 'started');
      assert.equal(startsActed.length, MEETINGS, 'one start acted on per meeting, however many copies');
      assert.equal(new Set(startsActed.map((e) => e.rtmsStreamId)).size, MEETINGS);
      assert.ok(!acted.some((e) => e.rtmsStreamId.startsWith('evil-')), 'nothing unsigned was acted on');
      assert.equal(acted.filter((e) => e.lifecycle === 'stopped' && e.rtmsStreamId.startsWith('flood-')).length, byKind.get('stop-unknown'), 'each first stop is passed on once');
      assert.equal(serve.runtime.registry.list().length, MEETINGS);

      // The meetings themselves: joined once each, nothing lost.
      assert.equal(summary.connections.signaling, MEETINGS, 'one connection per meeting');
      assert.equal(summary.connections.kicked, 0);
      assert.equal(summary.missed.transcript + summary.missed.chat + summary.missed.audio, 0, 'no frame missed during the flood');
      for (const s of emulator.streams) {
        const sent = delivered(s);
        assert.deepEqual((await serve.store.transcript(s.id.rtmsStreamId)).map((t) => t.text), sent.transcript);
        assert.deepEqual((await serve.store.chat(s.id.rtmsStreamId)).map((c) => c.text), sent.chat);
      }

      // Still healthy, metrics agree with what the clients saw, memory bounded.
      const base = serve.url;
      const health = await fetch(`${base}/healthz`);
      assert.equal(health.status, 200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const count = (status: number) => Number(new RegExp(`^openrtms_webhook_latency_seconds_count\\{status="${status}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
      const emulatorWebhooks = summary.webhooks.sent;
      assert.equal(count(200), TOTAL - byKind.get('unsigned')! - byKind.get('bad-signature')! - byKind.get('stale')! + emulatorWebhooks);
      assert.equal(count(401), byKind.get('unsigned')! + byKind.get('bad-signature')! + byKind.get('stale')!);
      const growthMb = (Math.max(rssPeak, process.memoryUsage().rss) - rssBefore) / 2 ** 20;
      assert.ok(growthMb < 150, `RSS grew ${growthMb.toFixed(1)} MB during the flood`);

      const ms = answers.map((a) => a.ms);
      const slowest = ms.indexOf(Math.max(...ms));
      const slow = ms.filter((x) => x > 100).length;
      console.log(
        `# chaos webhook flood: ${TOTAL} requests in ${elapsedS.toFixed(2)} s (${Math.round(TOTAL / elapsedS)}/s, ${CONCURRENCY} concurrent); ` +
          `p50 ${percentile(ms, 50).toFixed(2)} ms, p99 ${percentile(ms, 99).toFixed(2)} ms, max ${percentile(ms, 100).toFixed(1)} ms (request #${slowest}; ${slow} over 100 ms); ` +
          `${count(401)} x 401, ${count(200)} x 200; RSS +${growthMb.toFixed(1)} MB; ${MEETINGS} meetings, 0 frames missed`,
      );
    } finally {
      agent.destroy();
      await emulator.close();
      await serve.shutdown();
    }
  });
});
