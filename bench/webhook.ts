/**
 * Webhook answer latency of the gateway at a fixed request rate (default 500/s for 10 s) over
 * loopback, with signed requests: duplicate stop events and unknown events, so no stream work is
 * started. Run: `npx tsx bench/webhook.ts [rate] [seconds]`. Prints one JSON object.
 */
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../src/server/runtime.js';
import { openStore } from '../src/store/open.js';
import { signWebhook } from '../src/protocol/index.js';
import { LatencyHistogram } from '../src/bench/latency.js';

const rate = Number(process.argv[2] ?? 500);
const seconds = Number(process.argv[3] ?? 10);
const token = 'bench-token';
const dir = mkdtempSync(join(tmpdir(), 'openrtms-webhook-bench-'));
const store = await openStore({ dataDir: dir, databaseUrl: null });
const runtime = createRuntime({ clientId: 'c', clientSecret: 's', secretToken: token, webhookPath: '/webhook', store });
const { port } = await runtime.app.listen(0, '127.0.0.1');
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const bodies = [
  JSON.stringify({ event: 'meeting.rtms_stopped', event_ts: 1, payload: { meeting_uuid: 'm==', rtms_stream_id: 'bench-stream' } }),
  JSON.stringify({ event: 'meeting.participant_joined', event_ts: 1, payload: { object: {} } }),
];
const latency = new LatencyHistogram();
let ok = 0;
let failed = 0;

function send(i: number): Promise<void> {
  const body = bodies[i % bodies.length];
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/webhook', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...signWebhook(token, body) } }, (res) => {
      res.resume();
      res.on('end', () => {
        latency.record(performance.now() - started);
        if (res.statusCode === 200) ok++;
        else failed++;
        resolve();
      });
    });
    req.on('error', () => {
      failed++;
      resolve();
    });
    req.end(body);
  });
}

const total = rate * seconds;
const t0 = performance.now();
const inflight: Promise<void>[] = [];
for (let i = 0; i < total; i++) {
  const due = t0 + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  inflight.push(send(i));
}
await Promise.all(inflight);
const elapsed = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ rate_target: rate, requests: total, achieved_rate: Math.round(total / elapsed), ok, failed, latency_ms: { p50: latency.percentile(50), p99: latency.percentile(99), max: latency.percentile(100) } }));
agent.destroy();
await runtime.shutdown();
rmSync(dir, { recursive: true, force: true });
