// Serial (runs alone after the parallel phase): the 60 s outages, both at once (~65 s of wall clock).
/**
 * The figures: a webhook receiver down for 60 s while a meeting runs and ends, and an object
 * store (a real s3rver, stopped and started again on the same port and directory) down for 60 s
 * while a meeting ends. Nothing is lost, nothing is delivered or stored twice, ingestion misses no
 * frame, and once each server is back its queue drains within the configured longest backoff.
 * The two run at the same time: each mostly waits.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { openStore } from '../../src/store/open.js';
import { createRuntime } from '../../src/server/runtime.js';
import { safeName } from '../../src/recorder/paths.js';
import { Receiver } from './receiver.js';
import { S3Server, freePort, until } from './storage-helpers.js';
import { checkMeeting, cleanups, files, meeting, serveWith } from './meeting.js';

after(async () => {
  for (const c of cleanups.reverse()) await c();
});
const creds = { clientId: 'outage-client', clientSecret: 'outage-secret', secretToken: 'outage-token' };
const quiet = { info() {}, warn() {}, error() {} };

describe('destinations down for 60 s', { concurrency: 2 }, () => {
  it('a receiver down for 60 s: loses nothing and does not slow ingestion', { timeout: 150_000 }, async () => {
    const rx = new Receiver('outage-hook-secret');
    await rx.listen();
    cleanups.push(() => rx.close());
    const { runtime, url, dataDir } = await serveWith(rx, { initialBackoffMs: 500, maxBackoffMs: 5000, pollMs: 100 });
    rx.behaviour = 'down';
    const downAt = Date.now();
    const { summary, id } = await meeting(url, 12);
    assert.equal(summary.missed.audio, 0, 'ingestion did not miss a frame');
    const status = runtime.registry.list().find((s) => s.rtmsStreamId === id)!;
    assert.equal(status.frames.audio, summary.sent.audio);
    // Still down: everything is waiting in the outbox.
    await new Promise((r) => setTimeout(r, 1000));
    const queued = runtime.delivery.list()[0].stats;
    assert.equal(rx.accepted.length, 0);
    assert.ok(queued.queued > 20, `queued ${queued.queued}`);
    assert.ok(queued.lagMs > 10_000);
    await new Promise((r) => setTimeout(r, Math.max(0, downAt + 60_000 - Date.now())));
    rx.behaviour = 'ok';
    const upAt = Date.now();
    await checkMeeting(rx, runtime, dataDir, id, 10_000);
    const drainedMs = Date.now() - upAt;
    assert.ok(drainedMs < 8000, `drained in ${drainedMs} ms`);
    assert.equal(rx.accepted.length, rx.ids().size, 'a dropped connection is never delivered: no duplicates at all');
    assert.equal(runtime.delivery.list()[0].stats.queued, 0);
  });

  it('object storage down for 60 s: every file arrives once, byte-identical, after the outage', { timeout: 150_000 }, async () => {
    const s3 = new S3Server(await freePort());
    await s3.start();
    cleanups.push(() => s3.stop());
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-s3-outage-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const store = await openStore({ dataDir, databaseUrl: null });
    // Retries every 2 s at most, so the upload resumes within seconds of the server's return.
    const destination = { type: 's3' as const, name: 'archive', bucket: s3.bucket, prefix: '', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', deleteLocal: false, retryMinMs: 500, retryMaxMs: 2000 };
    const runtime = createRuntime({ ...creds, webhookPath: '/webhook', store, dataDir, logger: quiet, destinations: [destination] });
    const { url } = await runtime.app.listen(0, '127.0.0.1');
    cleanups.push(() => runtime.shutdown());

    const emu = new Emulator({ ...creds, webhookUrl: `${url}/webhook`, product: 'meeting', scenario: demoScenario(4), seed: 31 });
    await emu.start();
    cleanups.push(() => emu.close());
    const running = emu.run();
    await new Promise((r) => setTimeout(r, 1000));
    await s3.stop(); // down before the meeting ends: the whole upload waits for it
    const downAt = Date.now();
    const summary = await running;
    assert.equal(summary.missed.audio, 0, 'the outage slowed no ingestion');
    const id = emu.streams[0].id.rtmsStreamId;
    const dir = join(dataDir, 'recordings', safeName(id));
    const archive = () => runtime.delivery.list().find((d) => d.name === 'archive')!.stats;
    await until(() => archive().retried > 0, 30_000, 'upload attempts failing while the server is down');
    assert.equal(archive().delivered, 0);
    await new Promise((r) => setTimeout(r, Math.max(0, 60_000 - (Date.now() - downAt))));
    await s3.start();
    const local = files(dir);
    await until(() => archive().delivered === local.length, 60_000, 'every file uploaded after the outage');
    const client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    for (const path of local) {
      const key = `${safeName(id)}/${path}`;
      assert.equal(s3.writesOf(key), 1, `${path} stored once`);
      const body = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))).Body!.transformToByteArray());
      assert.ok(body.equals(readFileSync(join(dir, path))), `${path} byte-identical`);
    }
    client.destroy();
    assert.equal(archive().failed, 0);
    assert.equal(archive().queued, 0);
  });
});
