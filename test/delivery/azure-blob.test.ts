/**
 * Destination `azure-blob` against Azurite (Microsoft's Azure Storage emulator, started by the test):
 * byte-identical uploads with manifest.json last, the container created if missing, the emulator
 * down at the start, and a destination closed half-way and resumed without re-uploading. A counting
 * proxy in front of Azurite sees every request the destination made.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { createAzureBlobDestination } from '../../src/delivery/azure-blob.js';
import { objectKey } from '../../src/delivery/uploads.js';
import { digestFile, listRecording } from '../../src/delivery/recording-files.js';
import { UploadJournal } from '../../src/delivery/upload-journal.js';
import type { Destination, UploadedFile } from '../../src/delivery/types.js';
import { DeliveryError } from '../../src/errors.js';
import { AzuriteServer, CountingProxy, freePort, makeRecording, sleep, tmp, until } from './storage-helpers.js';

const STREAM = 'az/stream+id==';
const PREFIX = 'rtms/';
const ACCOUNT = 'devstoreaccount1';
const dirs: string[] = [];
const dests: Destination[] = [];
let azurite: AzuriteServer;
let proxy: CountingProxy;

before(async () => {
  azurite = new AzuriteServer(await freePort());
  await azurite.start();
  proxy = new CountingProxy(azurite.port);
  await proxy.start();
});
after(async () => {
  for (const d of dests) await d.close();
  await proxy?.stop();
  await azurite?.stop();
  for (const d of [...dirs, azurite?.dir]) if (d) rmSync(d, { recursive: true, force: true });
});

/** The connection string through the counting proxy. */
const connectionString = () => azurite.connectionString.replace(`:${azurite.port}/`, `:${proxy.port}/`);

function destination(dataDir: string, container: string, onResumed?: (files: UploadedFile[]) => void): Destination {
  const d = createAzureBlobDestination(
    { type: 'azure-blob', name: 'az-test', connectionString: connectionString(), container, prefix: PREFIX, deleteLocal: false, retryMinMs: 200, retryMaxMs: 1000 },
    { dataDir, ...(onResumed ? { onResumedUpload: (_r, files) => onResumed(files) } : {}) },
  );
  dests.push(d);
  return d;
}

/** Blob writes that create or replace a blob (Put Blob, or the block list that commits a block upload), in order. */
function commits(container: string): string[] {
  const base = `/${ACCOUNT}/${container}/`;
  return proxy.requests.filter((r) => r.method === 'PUT' && r.path.startsWith(base) && (!r.query.has('comp') || r.query.get('comp') === 'blocklist')).map((r) => r.path.slice(base.length));
}

async function assertIdentical(container: string, dir: string, paths: string[]): Promise<void> {
  const c = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container);
  for (const p of paths) {
    const bytes = await c.getBlockBlobClient(objectKey(PREFIX, STREAM, p)).downloadToBuffer();
    assert.ok(bytes.equals(readFileSync(join(dir, p))), `${p} is byte-identical`);
  }
}

describe('azure-blob destination', () => {
  it('creates the container and uploads every file byte-identical, manifest.json last, SHA-256 in metadata', { timeout: 60_000 }, async () => {
    const dataDir = tmp('az-rt');
    dirs.push(dataDir);
    const rec = await makeRecording(dataDir, STREAM);
    const paths = await listRecording(rec.dir);
    const d = destination(dataDir, 'meetings-rt');
    await d.start!();
    const files = await d.recordingFinished!(rec);
    assert.deepEqual(files.map((f) => f.path), paths);
    for (const f of files) {
      assert.equal(f.sha256, (await digestFile(join(rec.dir, f.path))).sha256, `${f.path}: sha256 returned is the file's`);
      assert.equal(f.url, `http://127.0.0.1:${proxy.port}/${ACCOUNT}/meetings-rt/rtms/${encodeURIComponent('az%2Fstream%2Bid%3D%3D')}/${f.path}`);
    }
    await assertIdentical('meetings-rt', rec.dir, paths);
    const keys = paths.map((p) => objectKey(PREFIX, STREAM, p));
    assert.deepEqual([...commits('meetings-rt')].sort(), [...keys].sort(), 'each blob written once');
    assert.equal(commits('meetings-rt').at(-1), objectKey(PREFIX, STREAM, 'manifest.json'), 'manifest.json is written last');
    const props = await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('meetings-rt').getBlockBlobClient(objectKey(PREFIX, STREAM, 'audio/mixed.wav')).getProperties();
    assert.equal(props.metadata?.sha256, files.find((f) => f.path === 'audio/mixed.wav')!.sha256);
    assert.equal(props.contentType, 'audio/wav');
    assert.deepEqual(d.stats(), { queued: 0, delivered: paths.length, retried: 0, failed: 0, lagMs: 0 });
  });

  it('deleteStream removes every blob under the stream prefix (and only those); a missing container holds nothing', { timeout: 60_000 }, async () => {
    const dataDir = tmp('az-del');
    dirs.push(dataDir);
    const rec = await makeRecording(dataDir, STREAM, 1024);
    const other = await makeRecording(dataDir, `${STREAM}x`, 1024); // an id that extends this one
    const d = destination(dataDir, 'meetings-del');
    await d.recordingFinished!(rec);
    await d.recordingFinished!(other);
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('meetings-del');
    const names = async (id: string) => {
      const out: string[] = [];
      for await (const b of container.listBlobsFlat({ prefix: objectKey(PREFIX, id, '') })) out.push(b.name);
      return out;
    };
    const count = (await names(STREAM)).length;
    assert.ok(count >= 5);
    assert.deepEqual(await d.deleteStream!(STREAM, true), { objects: count, journal: 0 });
    assert.deepEqual(await d.deleteStream!(STREAM), { objects: count, journal: 0 });
    assert.deepEqual(await names(STREAM), []);
    assert.equal((await names(`${STREAM}x`)).length, count, 'the other stream keeps its blobs');
    assert.deepEqual(await destination(dataDir, 'no-such-container').deleteStream!(STREAM), { objects: 0, journal: 0 });
  });

  it('waits out the emulator being down and uploads everything once when it is back', { timeout: 60_000 }, async () => {
    const dataDir = tmp('az-down');
    dirs.push(dataDir);
    const rec = await makeRecording(dataDir, STREAM);
    const paths = await listRecording(rec.dir);
    await azurite.stop();
    const d = destination(dataDir, 'meetings-down');
    const p = d.recordingFinished!(rec);
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    await sleep(2500);
    assert.equal(settled, false, 'not given up while the server is down');
    assert.ok(d.stats().retried >= 1 && d.stats().queued === paths.length && d.stats().lagMs >= 2000, JSON.stringify(d.stats()));
    await azurite.start();
    const files = await p;
    assert.equal(files.length, paths.length);
    const keys = paths.map((p) => objectKey(PREFIX, STREAM, p));
    assert.deepEqual([...commits('meetings-down')].sort(), [...keys].sort(), 'each blob written once');
    await assertIdentical('meetings-down', rec.dir, paths);
  });

  it('a new destination on the same data dir finishes what a closed one started, without re-uploading', { timeout: 60_000 }, async () => {
    const dataDir = tmp('az-resume');
    dirs.push(dataDir);
    const rec = await makeRecording(dataDir, STREAM);
    const paths = await listRecording(rec.dir);
    const first = destination(dataDir, 'meetings-resume');
    let closing: Promise<void> | undefined;
    proxy.onRequest = (req) => {
      // The "crash": as the large file starts, the small files before it done.
      if (!closing && req.method === 'PUT' && decodeURIComponent(req.url ?? '').includes('frames/big.jpg')) closing = first.close();
    };
    const p = first.recordingFinished!(rec);
    await until(() => closing !== undefined, 20_000, 'the large file to start');
    await closing;
    proxy.onRequest = undefined;
    await assert.rejects(p, (e: unknown) => e instanceof DeliveryError && e.code === 'DELIVERY_CLOSED');
    const done = Object.keys((await new UploadJournal(dataDir, 'az-test').all())[0]!.uploaded);
    assert.ok(done.length >= 2 && !done.includes('frames/big.jpg') && !done.includes('manifest.json'), `done before the close: ${done}`);
    const before = proxy.requests.length;

    let resumed: UploadedFile[] | undefined;
    const second = destination(dataDir, 'meetings-resume', (files) => (resumed = files));
    await second.start!();
    await until(() => resumed !== undefined, 30_000, 'the resumed upload');
    assert.deepEqual(resumed!.map((f) => f.path), paths);
    const asked = proxy.requests.slice(before).filter((r) => done.some((path) => r.path.endsWith(objectKey(PREFIX, STREAM, path))));
    assert.deepEqual(asked, [], 'nothing asked or sent again for the files done before the close');
    for (const path of done) assert.equal(commits('meetings-resume').filter((k) => k === objectKey(PREFIX, STREAM, path)).length, 1, `${path} written once`);
    assert.equal(commits('meetings-resume').at(-1), objectKey(PREFIX, STREAM, 'manifest.json'));
    await assertIdentical('meetings-resume', rec.dir, paths);
  });
});
