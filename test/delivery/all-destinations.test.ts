/**
 * One emulated meeting with every kind of destination configured at once, each a real local server
 * started here: a signed-webhook receiver, s3rver (S3 API), Azurite (Azure Blob) and nginx with the
 * RTMP module. Every event arrives (counted, with ids), every file is stored byte-identical in both
 * object stores, and the restream is playable H.264 + AAC.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient } from '@azure/storage-blob';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { openStore } from '../../src/store/open.js';
import { createRuntime } from '../../src/server/runtime.js';
import { safeName } from '../../src/recorder/paths.js';
import { Receiver } from './receiver.js';
import { AzuriteServer, S3Server, freePort } from './storage-helpers.js';
import { probeFlv, rtmpUnavailable, startRtmpServer } from './rtmp-server.js';
import { files } from './meeting.js';

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});
const creds = { clientId: 'all-client', clientSecret: 'all-secret', secretToken: 'all-token' };
const quiet = { info() {}, warn() {}, error() {} };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const unavailable = rtmpUnavailable();

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('delivery: one meeting, every destination', { skip: unavailable }, () => {
  it('webhook events as recorded, files byte-identical in S3 and Azure Blob, a playable restream', { timeout: 120_000 }, async () => {
    const rx = new Receiver('all-hook-secret');
    await rx.listen();
    cleanups.push(() => rx.close());
    const s3 = new S3Server(await freePort());
    await s3.start();
    cleanups.push(() => s3.stop());
    const azure = new AzuriteServer(await freePort());
    await azure.start();
    cleanups.push(() => azure.stop());
    const rtmp = await startRtmpServer();
    cleanups.push(() => rtmp.close());

    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-all-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const store = await openStore({ dataDir, databaseUrl: null });
    const runtime = createRuntime({
      ...creds,
      webhookPath: '/webhook',
      store,
      dataDir,
      logger: quiet,
      destinations: [
        { type: 'webhook', name: 'crm', url: rx.url, secret: rx.secret, maxAgeHours: 24, timeoutMs: 2000 },
        { type: 's3', name: 'archive', bucket: s3.bucket, prefix: 'rtms/', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', deleteLocal: false },
        { type: 'azure-blob', name: 'blob', connectionString: azure.connectionString, container: 'meetings', prefix: '', deleteLocal: false },
        { type: 'rtmp', name: 'live', url: `${rtmp.base}/all-destinations` },
      ],
      deliveryTuning: { initialBackoffMs: 100, maxBackoffMs: 1000, pollMs: 50 },
    });
    const { url } = await runtime.app.listen(0, '127.0.0.1');
    cleanups.push(() => runtime.shutdown());

    const emu = new Emulator({ ...creds, webhookUrl: `${url}/webhook`, product: 'meeting', scenario: demoScenario(6), seed: 21 });
    await emu.start();
    cleanups.push(() => emu.close());
    const summary = await emu.run();
    assert.equal(summary.missed.audio, 0, 'delivery slowed no ingestion');
    const id = emu.streams[0].id.rtmsStreamId;
    const dir = join(dataDir, 'recordings', safeName(id));

    // Webhook: the stream's life, as recorded, then recording.ready per file per object store.
    await until(() => rx.unique().filter((r) => r.type === 'recording.ready').length === 2 * files(dir).length, 60_000, 'recording.ready for every stored file');
    assert.equal(rx.badSignatures, 0);
    const events = rx.unique().filter((e) => e.stream.rtmsStreamId === id);
    const count = (t: string) => events.filter((e) => e.type === t).length;
    assert.equal(count('stream.started'), 1);
    assert.equal(count('stream.stopped'), 1);
    const transcriptLines = readFileSync(join(dir, 'transcript.jsonl'), 'utf8').trim().split('\n').filter(Boolean);
    assert.equal(count('transcript.segment'), transcriptLines.length, 'one transcript.segment per transcript line recorded');
    assert.ok(count('participant.joined') >= 1);
    assert.ok(count('chat.message') >= 1);
    for (const e of events) assert.match(e.id, /^evt_[0-9a-f]{32}$/);

    // Object storage: every local file, byte-identical, announced with its SHA-256.
    const local = files(dir);
    const ready = events.filter((e) => e.type === 'recording.ready');
    const s3Client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const container = BlobServiceClient.fromConnectionString(azure.connectionString).getContainerClient('meetings');
    for (const path of local) {
      const bytes = readFileSync(join(dir, path));
      const fromS3 = Buffer.from(await (await s3Client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `rtms/${safeName(id)}/${path}` }))).Body!.transformToByteArray());
      assert.ok(fromS3.equals(bytes), `S3 holds ${path} byte-identical`);
      const fromAzure = await container.getBlockBlobClient(`${safeName(id)}/${path}`).downloadToBuffer();
      assert.ok(fromAzure.equals(bytes), `Azure Blob holds ${path} byte-identical`);
      for (const destination of ['archive', 'blob']) {
        const r = ready.find((e) => e.data.path === path && e.data.destination === destination);
        assert.ok(r, `recording.ready for ${path} from ${destination}`);
        assert.equal(r.data.sha256, sha256(bytes));
        assert.equal(r.data.bytes, bytes.length);
      }
    }
    assert.equal(s3.writesOf(`rtms/${safeName(id)}/manifest.json`), 1, 'the manifest was stored once');
    s3Client.destroy();

    // RTMP: what nginx recorded plays as H.264 + AAC for about the meeting's length.
    await rtmp.settled(1000, 20_000);
    const [flv] = rtmp.recordings();
    assert.ok(flv, 'nginx recorded the restream');
    const probe = probeFlv(flv);
    assert.deepEqual(probe.codecs, ['aac', 'h264']);
    assert.ok(probe.duration > 4 && probe.duration < 8, `restream plays ${probe.duration.toFixed(2)} s of a 6 s meeting`);

    const stats = Object.fromEntries(runtime.delivery.list().map((d) => [d.name, d.stats]));
    assert.equal(stats.archive.delivered, local.length);
    assert.equal(stats.blob.delivered, local.length);
    assert.equal(stats.crm.failed, 0);
    assert.ok(stats.live.delivered > 0);
  });
});
