/**
 * Chaos: the database goes away for 10 s and comes back. The serve runtime writes to the real
 * PostgreSQL through a TCP proxy that is cut (connections refused, open ones reset) while meetings
 * stream. Nothing that was delivered may be missing from the store afterwards — neither what was
 * said during the outage, nor what a meeting that ended during the outage had queued.
 * Skipped (with the reason) when PostgreSQL is not reachable at 127.0.0.1:5432.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Emulator } from '../../src/emulator/index.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { StoreSink } from '../../src/store/sink.js';
import { CREDS, CuttableProxy, TOKEN, chaosScenario, cleanupDirs, delivered, sleep, startServe } from './helpers.js';

const URL = process.env.OPENRTMS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `openrtms_chaos_${process.pid}_${Date.now().toString(36)}`;
const OUTAGE_MS = 10_000;

let skip: string | false = false;
let admin: pg.Client | undefined;
before(async () => {
  admin = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    skip = `PostgreSQL not reachable at ${URL} (${(err as { code?: string }).code ?? (err as Error).message})`;
    admin = undefined;
  }
});
after(async () => {
  if (admin) {
    for (const mode of ['cut', 'blackhole', 'flapping']) await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}_${mode}" CASCADE`);
    await admin.end();
  }
  cleanupDirs();
});

type Mode = 'cut' | 'blackhole';
const WHAT: Record<Mode, string> = {
  cut: 'refused and reset (database down)',
  blackhole: 'silently black-holed, the open connections for good (lost NAT state)',
};

describe('chaos: store unavailable for 10 s', { concurrency: true }, () => {
  for (const mode of ['cut', 'blackhole'] as Mode[]) {
    it(`PostgreSQL ${WHAT[mode]} for 10 s mid-meeting, and a meeting that ends meanwhile: nothing lost`, { timeout: 90_000 }, async (t) => {
      if (skip) return t.skip(skip);
      await outage(mode, `${SCHEMA}_${mode}`);
    });
  }
});

describe('chaos: database connections reset again and again under write load', () => {
  it('20 resets in 10 s while 8 streams write: no crash, every line stored exactly once', { timeout: 60_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => void uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    const proxy = await new CuttableProxy({ host: '127.0.0.1', port: Number(new globalThis.URL(URL).port || 5432) }).start();
    const viaProxy = new globalThis.URL(URL);
    viaProxy.port = String(proxy.port);
    const store = new PostgresStore({ connectionString: viaProxy.toString(), schema: `${SCHEMA}_flapping`, connectTimeoutMs: 1000, queryTimeoutMs: 3000 });
    try {
      await store.migrate();
      const T0 = Date.now();
      const sinks = Array.from({ length: 8 }, (_, k) => new StoreSink(store, { rtmsStreamId: `flap-${k}`, product: 'meeting', meetingUuid: `m-${k}`, startedAt: T0 }, { flushIntervalMs: 20, retryMaxDelayMs: 200 }));
      const fed = sinks.map(() => [] as string[]);
      let stop = false;
      const feeding = (async () => {
        for (let i = 0; !stop; i++) {
          sinks.forEach((sink, k) => {
            const text = `stream ${k} line ${i}`;
            fed[k].push(text);
            sink.onTranscript({ userId: 1, userName: 'Ada', text, timestamp: T0 + i, receivedAt: Date.now() });
          });
          await sleep(5);
        }
      })();
      for (let c = 0; c < 20; c++) {
        await sleep(300 + ((c * 137) % 300));
        await proxy.cut();
        await sleep(20);
        await proxy.restore();
      }
      stop = true;
      await feeding;
      await Promise.all(sinks.map((s) => s.drained()));
      assert.deepEqual(uncaught, [], 'a reset between two queries of a transaction is no uncaught exception');
      let lines = 0;
      let failedFlushes = 0;
      for (let k = 0; k < sinks.length; k++) {
        const stored = (await store.transcript(`flap-${k}`)).map((x) => x.text);
        assert.equal(sinks[k].stats.dropped, 0);
        assert.equal(stored.length, fed[k].length, `stream ${k}: ${stored.length - fed[k].length} lines more than fed (a write committed but reported failed, then retried)`);
        assert.deepEqual(stored, fed[k], `stream ${k}: every line once, in order`);
        lines += stored.length;
        failedFlushes += sinks[k].stats.failedFlushes;
      }
      assert.ok(failedFlushes >= 20, `the resets hit the writes (${failedFlushes} failed flushes)`);
      console.log(`# chaos connection resets: 20 resets, ${failedFlushes} failed flushes retried, ${lines} transcript lines stored exactly once, 0 uncaught`);
    } finally {
      process.off('uncaughtException', onUncaught);
      await store.close();
      await proxy.close();
    }
  });
});

async function outage(mode: Mode, schema: string): Promise<void> {
  const target = new globalThis.URL(URL);
  const proxy = await new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) }).start();
  const viaProxy = new globalThis.URL(URL);
  viaProxy.port = String(proxy.port);
  // Short timeouts so that a silently dead connection is given up within the 10 s outage.
  const store = new PostgresStore({ connectionString: viaProxy.toString(), schema, connectTimeoutMs: 2000, queryTimeoutMs: 3000 });
  await store.migrate();
  const serve = await startServe({ store });
  // A: 18 s, through the whole outage. B: 7 s, ends while the database is away.
  const long = new Emulator({ ...CREDS, secretToken: TOKEN, webhookUrl: serve.webhookUrl, scenario: chaosScenario(18), seed: 11, keepAliveIntervalMs: 500, recordSent: true });
  const short = new Emulator({ ...CREDS, secretToken: TOKEN, webhookUrl: serve.webhookUrl, scenario: chaosScenario(7), seed: 12, keepAliveIntervalMs: 500, recordSent: true });
  try {
    await long.start();
    await short.start();
    const runs = [long.run(), short.run()];
    await sleep(3000);
    const cutAt = Date.now();
    if (mode === 'cut') await proxy.cut();
    else proxy.blackhole();

    // During the outage: the webhook, health and the meetings carry on; the API says what is wrong.
    await sleep(1500);
    assert.equal((await fetch(`${serve.url}/healthz`)).status, 200);
    const api = await fetch(`${serve.url}/api/streams`);
    const apiBody = (await api.json()) as { error?: { code: string } };
    assert.equal(api.status, 503, 'the API answers 503 while the store is away');
    assert.equal(apiBody.error?.code, 'STORE_UNAVAILABLE');

    await runs[1]; // B ends during the outage
    await sleep(Math.max(0, cutAt + OUTAGE_MS - Date.now()));
    await proxy.restore();
    const restoredAt = Date.now();
    await runs[0];
    await serve.settled(15_000);

    // Everything delivered is in the store, for both meetings, once it has caught up.
    for (const emu of [long, short]) {
      const stream = emu.streams[0];
      const sent = delivered(stream);
      let stored: string[] = [];
      for (let i = 0; i < 100; i++) {
        stored = (await store.transcript(stream.id.rtmsStreamId)).map((x) => x.text);
        if (stored.length >= sent.transcript.length) break;
        await sleep(100);
      }
      assert.deepEqual(stored, sent.transcript, `transcript of the ${emu === long ? 18 : 7} s meeting`);
      assert.deepEqual((await store.chat(stream.id.rtmsStreamId)).map((x) => x.text), sent.chat, 'chat');
      const row = await store.getStream(stream.id.rtmsStreamId);
      assert.equal(row?.state, 'stopped');
      assert.equal(Number(row?.stats.store_dropped ?? 0), 0, 'the sink dropped nothing');
    }
    const failed = serve.logs.filter((l) => l.msg === 'store sink: write failed, keeping items queued and retrying');
    const back = serve.logs.filter((l) => l.msg === 'store sink: store available again');
    assert.ok(failed.length >= 2, 'both streams saw the outage');
    assert.ok(back.length >= 2, 'both streams saw the store come back');
    const caughtUpS = (Math.max(...back.map((l) => l.at)) - restoredAt) / 1000;
    assert.ok(caughtUpS < 8, `caught up ${caughtUpS} s after the restore (retry backoff is capped at 5 s)`);
    assert.equal(long.summary().missed.transcript + short.summary().missed.transcript, 0, 'the meetings themselves were not disturbed');
    console.log(
      `# chaos store outage (${mode}): PostgreSQL away ${OUTAGE_MS / 1000} s; ${delivered(long.streams[0]).transcript.length + delivered(short.streams[0]).transcript.length} transcript lines and ` +
        `${delivered(long.streams[0]).chat.length + delivered(short.streams[0]).chat.length} chat messages, all stored; every stream's queue written ≤ ${caughtUpS.toFixed(1)} s after the restore`,
    );
  } finally {
    await long.close();
    await short.close();
    await serve.shutdown();
    await proxy.close();
  }
}
