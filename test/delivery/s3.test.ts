/**
 * Destination `s3` against a real S3-compatible server (s3rver on 127.0.0.1): byte-identical
 * uploads with manifest.json last, a server that is down or goes away mid-upload, a destination
 * closed half-way and resumed by a new one on the same data dir, deleteLocal, and the max age.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createS3Destination } from '../../src/delivery/s3.js';
import { objectKey, type UploadTuning } from '../../src/delivery/uploads.js';
import { safeName } from '../../src/recorder/paths.js';
import { digestFile, listRecording } from '../../src/delivery/recording-files.js';
import { UploadJournal } from '../../src/delivery/upload-journal.js';
import type { Destination, S3DestinationConfig, UploadedFile } from '../../src/delivery/types.js';
import { DeliveryError } from '../../src/errors.js';
import { CountingProxy, S3Server, freePort, makeRecording, sleep, tmp, until } from './storage-helpers.js';

const STREAM = 'rtms/stream+id==';
const PREFIX = 'rtms/';
const dirs: string[] = [];
const servers: S3Server[] = [];
const dests: Destination[] = [];
after(async () => {
  for (const d of dests) await d.close();
  for (const s of servers) await s.stop();
  for (const d of [...dirs, ...servers.map((s) => s.dir)]) rmSync(d, { recursive: true, force: true });
});

async function server(): Promise<S3Server> {
  const s = new S3Server(await freePort());
  servers.push(s);
  await s.start();
  return s;
}

function config(s: S3Server, extra: Partial<S3DestinationConfig> & UploadTuning = {}): S3DestinationConfig & UploadTuning {
  return { type: 's3', name: 's3-test', bucket: s.bucket, prefix: PREFIX, region: 'us-east-1', endpoint: s.endpoint, forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', deleteLocal: false, retryMinMs: 200, retryMaxMs: 1000, ...extra };
}

function destination(s: S3Server, dataDir: string, extra: Parameters<typeof config>[1] = {}, onResumed?: (files: UploadedFile[]) => void): Destination {
  const d = createS3Destination(config(s, extra), { dataDir, ...(onResumed ? { onResumedUpload: (_r, files) => onResumed(files) } : {}) });
  dests.push(d);
  return d;
}

function client(s: S3Server): S3Client {
  return new S3Client({ region: 'us-east-1', endpoint: s.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
}

/** Downloads every file of the recording and compares it byte for byte with the local copy. */
async function assertIdentical(s: S3Server, dir: string, paths: string[], rtmsStreamId = STREAM): Promise<void> {
  const c = client(s);
  try {
    for (const p of paths) {
      const got = await c.send(new GetObjectCommand({ Bucket: s.bucket, Key: objectKey(PREFIX, rtmsStreamId, p) }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      assert.ok(bytes.equals(readFileSync(join(dir, p))), `${p} is byte-identical`);
    }
  } finally {
    c.destroy();
  }
}

/** The local files, read before an upload that may delete them. */
async function snapshot(dir: string): Promise<{ paths: string[]; digests: Map<string, { bytes: number; sha256: string }> }> {
  const paths = await listRecording(dir);
  const digests = new Map<string, { bytes: number; sha256: string }>();
  for (const p of paths) digests.set(p, await digestFile(join(dir, p)));
  return { paths, digests };
}

describe('s3 destination: a finished recording', () => {
  let s: S3Server;
  before(async () => {
    s = await server();
  });

  it('uploads every file byte-identical under <prefix><encoded stream id>/, manifest.json last, with its SHA-256', { timeout: 60_000 }, async () => {
    const dataDir = tmp('s3-rt');
    dirs.push(dataDir);
    const rec = await makeRecording(dataDir, STREAM);
    const { paths, digests } = await snapshot(rec.dir);
    assert.ok(paths.includes('audio/mixed.wav') && paths.includes('transcript.jsonl') && paths.includes('frames/big.jpg'));
    const d = destination(s, dataDir);
    await d.start!();
    const files = await d.recordingFinished!(rec);

    assert.deepEqual(files.map((f) => f.path), paths, 'every file, in upload order');
    for (const f of files) {
      assert.equal(f.sha256, digests.get(f.path)!.sha256, `${f.path}: sha256 returned is the file's`);
      assert.equal(f.bytes, digests.get(f.path)!.bytes);
      assert.equal(f.url, `s3://${s.bucket}/rtms/rtms%2Fstream%2Bid%3D%3D/${f.path}`);
    }
    await assertIdentical(s, rec.dir, paths);

    const keys = paths.map((p) => objectKey(PREFIX, STREAM, p));
    const writes = s.writes.filter((w) => keys.includes(w.key));
    assert.equal(writes.length, keys.length, 'one write per file');
    assert.equal(writes.at(-1)!.key, objectKey(PREFIX, STREAM, 'manifest.json'), 'manifest.json is written last');
    assert.equal(writes.find((w) => w.key.endsWith('frames/big.jpg'))!.kind, 'multipart', 'a large file goes up in parts');
    const wav = writes.find((w) => w.key.endsWith('audio/mixed.wav'))!;
    assert.equal(wav.checksum, Buffer.from(digests.get('audio/mixed.wav')!.sha256, 'hex').toString('base64'), 'PutObject carries the SHA-256 checksum for the server to check');
    assert.equal(writes.find((w) => w.key.endsWith('frames/big.jpg'))!.checksum, 'SHA256', 'the multipart upload announces SHA-256 part checksums');

    const c = client(s);
    const head = await c.send(new HeadObjectCommand({ Bucket: s.bucket, Key: objectKey(PREFIX, STREAM, 'audio/mixed.wav') }));
    c.destroy();
    assert.equal(head.Metadata?.sha256, digests.get('audio/mixed.wav')!.sha256, 'the SHA-256 is in the object metadata');
    assert.equal(head.ContentType, 'audio/wav');

    assert.deepEqual(d.stats(), { queued: 0, delivered: paths.length, retried: 0, failed: 0, lagMs: 0 });
    assert.deepEqual(await new UploadJournal(dataDir, 's3-test').all(), [], 'a finished upload leaves no journal');
    assert.ok(existsSync(rec.dir), 'deleteLocal is off: the recording stays');
  });
});

describe('s3 destination: the storage server is down', () => {
  it('retries while it is down and uploads everything exactly once when it is back', { timeout: 60_000 }, async () => {
    const s = await server();
    await s.stop();
    const dataDir = tmp('s3-down');
    dirs.push(dataDir);
    const rec = await makeRecording(dataDir, STREAM);
    const { paths } = await snapshot(rec.dir);
    const d = destination(s, dataDir);
    const started = Date.now();
    const p = d.recordingFinished!(rec);
    assert.ok(Date.now() - started < 200, 'recordingFinished only schedules');
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    await sleep(2500);
    assert.equal(settled, false, 'nothing is lost or given up while the server is down');
    const st = d.stats();
    assert.equal(st.queued, paths.length, 'every file waits');
    assert.ok(st.retried >= 2, `retried ${st.retried}`);
    assert.ok(st.lagMs >= 2000, `lag ${st.lagMs}`);

    await s.start();
    const files = await p;
    assert.equal(files.length, paths.length);
    for (const path of paths) assert.equal(s.writesOf(objectKey(PREFIX, STREAM, path)), 1, `${path} written once`);
    await assertIdentical(s, rec.dir, paths);
    assert.equal(d.stats().queued, 0);
    assert.equal(d.stats().lagMs, 0);
  });

  it('survives the server going away in the middle of a multipart upload', { timeout: 60_000 }, async () => {
    const s = await server();
    const dataDir = tmp('s3-mid');
    dirs.push(dataDir);
    const rec = await makeRecording(dataDir, STREAM, 20 << 20);
    const { paths } = await snapshot(rec.dir);
    const big = objectKey(PREFIX, STREAM, 'frames/big.jpg');
    let stopped = false;
    s.onRequest = (req) => {
      // The second part of the large file: the server dies with the upload half done.
      if (!stopped && req.method === 'PUT' && req.url?.includes('partNumber=2')) {
        stopped = true;
        void s.stop().then(() => sleep(2000)).then(() => s.start());
      }
    };
    const d = destination(s, dataDir);
    const files = await d.recordingFinished!(rec);
    s.onRequest = undefined;
    assert.ok(stopped, 'the server was stopped mid-upload');
    assert.equal(files.length, paths.length);
    assert.ok(d.stats().retried >= 1);
    for (const path of paths) {
      const key = objectKey(PREFIX, STREAM, path);
      // The interrupted file starts again (its first attempt never completed); nothing else is re-sent.
      if (key === big) assert.equal(s.writesOf(key), 2, 'the interrupted file: one broken attempt, one whole');
      else assert.equal(s.writesOf(key), 1, `${path} written once`);
    }
    await assertIdentical(s, rec.dir, paths);
  });
});

describe('s3 destination: crash and resume', () => {
  it('a new destination on the same data dir finishes what a closed one started, without re-uploading', { timeout: 60_000 }, async () => {
    const s = await server();
    const dataDir = tmp('s3-resume');
    dirs.push(dataDir);
    const rec = await makeRecording(dataDir, STREAM);
    const { paths } = await snapshot(rec.dir);
    const first = destination(s, dataDir);
    // The "crash": the destination closes as the large file's first part arrives, the small files before it done.
    let closing: Promise<void> | undefined;
    s.onRequest = (req) => {
      if (!closing && req.method === 'PUT' && req.url?.includes('big.jpg') && req.url.includes('partNumber=1')) closing = first.close();
    };
    const p = first.recordingFinished!(rec);
    await until(() => closing !== undefined, 20_000, 'the large file to start');
    await closing;
    s.onRequest = undefined;
    await assert.rejects(p, (e: unknown) => e instanceof DeliveryError && e.code === 'DELIVERY_CLOSED');
    const journal = (await new UploadJournal(dataDir, 's3-test').all())[0]!;
    const done = Object.keys(journal.uploaded);
    assert.ok(done.length >= 2 && done.length < paths.length && !done.includes('frames/big.jpg'), `the journal holds ${done.length} of ${paths.length}`);
    assert.ok(!done.includes('manifest.json'), 'the manifest waits for the rest');
    const writesBefore = s.writes.length;
    const requestsBefore = s.requests.length;

    let resumed: UploadedFile[] | undefined;
    const second = destination(s, dataDir, {}, (files) => (resumed = files));
    await second.start!();
    await until(() => resumed !== undefined, 30_000, 'the resumed upload');
    assert.deepEqual(resumed!.map((f) => f.path), paths);
    for (const path of done) assert.equal(s.writesOf(objectKey(PREFIX, STREAM, path)), 1, `${path} (done before the crash) is not uploaded again`);
    for (const path of paths) assert.ok(s.writesOf(objectKey(PREFIX, STREAM, path)) >= 1, `${path} is there`);
    const asked = s.requests.slice(requestsBefore).filter((r) => done.some((path) => decodeURIComponent(r).includes(objectKey(PREFIX, STREAM, path))));
    assert.deepEqual(asked, [], 'the journal vouches for the done files: not even a HEAD for them');
    assert.equal(s.writes.at(-1)!.key, objectKey(PREFIX, STREAM, 'manifest.json'), 'manifest.json still last');
    assert.ok(s.writes.length - writesBefore <= paths.length - done.length + 1, 'only the rest went up (plus at most the file cut by the close)');
    await assertIdentical(s, rec.dir, paths);
    assert.deepEqual(await new UploadJournal(dataDir, 's3-test').all(), []);
  });

  it('a process SIGKILLed mid-upload: the next process resumes from the journal, nothing done is sent again', { timeout: 60_000 }, async () => {
    const s = await server();
    const dataDir = tmp('s3-kill');
    dirs.push(dataDir);
    const rec = await makeRecording(dataDir, STREAM);
    const { paths } = await snapshot(rec.dir);
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'upload-child.ts')], {
      env: { ...process.env, OPENRTMS_UPLOAD_CHILD: JSON.stringify({ config: config(s), dataDir, recording: rec }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
    // Killed as the large file's first part arrives: no close, no flush, the multipart upload left open.
    s.onRequest = (req) => {
      if (req.method === 'PUT' && req.url?.includes('big.jpg') && req.url.includes('partNumber=1')) child.kill('SIGKILL');
    };
    assert.equal(await exited, 'SIGKILL', 'the uploader was killed');
    s.onRequest = undefined;
    assert.doesNotMatch(out, /finished/);
    const done = Object.keys((await new UploadJournal(dataDir, 's3-test').all())[0]!.uploaded);
    assert.ok(done.length >= 2 && !done.includes('frames/big.jpg') && !done.includes('manifest.json'), `done before the kill: ${done}`);
    const requestsBefore = s.requests.length;

    let resumed: UploadedFile[] | undefined;
    const next = destination(s, dataDir, {}, (files) => (resumed = files));
    await next.start!();
    await until(() => resumed !== undefined, 30_000, 'the resumed upload');
    assert.deepEqual(resumed!.map((f) => f.path), paths);
    for (const path of done) assert.equal(s.writesOf(objectKey(PREFIX, STREAM, path)), 1, `${path} written once`);
    const asked = s.requests.slice(requestsBefore).filter((r) => done.some((path) => decodeURIComponent(r).includes(objectKey(PREFIX, STREAM, path))));
    assert.deepEqual(asked, [], 'nothing asked again for the files done before the kill');
    assert.equal(s.writes.at(-1)!.key, objectKey(PREFIX, STREAM, 'manifest.json'));
    await assertIdentical(s, rec.dir, paths);
  });

  it('processes sharing a data dir: a live one\'s upload is left alone, a dead one\'s is taken over', { timeout: 60_000 }, async () => {
    const s = await server();
    await s.stop(); // the child's upload waits, retrying, with its lock held
    const dataDir = tmp('s3-shared');
    dirs.push(dataDir);
    const rec = await makeRecording(dataDir, STREAM);
    const { paths } = await snapshot(rec.dir);
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'upload-child.ts')], {
      env: { ...process.env, OPENRTMS_UPLOAD_CHILD: JSON.stringify({ config: config(s), dataDir, recording: rec }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    await until(() => existsSync(join(new UploadJournal(dataDir, 's3-test').dir, `${safeName(STREAM)}.lock`)), 20_000, 'the child to lock its upload');

    let resumed: UploadedFile[] | undefined;
    const other = destination(s, dataDir, { rescanMs: 200 }, (files) => (resumed = files));
    await other.start!();
    await sleep(1000);
    assert.equal(other.stats().queued, 0, 'the live process holds it: not resumed here');
    child.kill('SIGKILL');
    await exited;
    await until(() => other.stats().queued > 0, 10_000, 'the rescan to take the dead process\'s upload over');
    await s.start();
    await until(() => resumed !== undefined, 30_000, 'the taken-over upload');
    assert.equal(resumed!.length, paths.length);
    for (const path of paths) assert.equal(s.writesOf(objectKey(PREFIX, STREAM, path)), 1, `${path} written once`);
    await assertIdentical(s, rec.dir, paths);
  });

  it('with the journal lost, the objects metadata keeps a repeated upload from sending anything', { timeout: 60_000 }, async () => {
    const s = await server();
    const dataDir = tmp('s3-nojournal');
    dirs.push(dataDir);
    const rec = await makeRecording(dataDir, STREAM);
    const { paths } = await snapshot(rec.dir);
    await destination(s, dataDir).recordingFinished!(rec);
    const writes = s.writes.length;
    rmSync(join(dataDir, 'delivery'), { recursive: true, force: true });
    const again = destination(s, dataDir);
    const files = await again.recordingFinished!(rec);
    assert.equal(files.length, paths.length);
    assert.equal(s.writes.length, writes, 'no object written a second time');
    assert.ok(s.requests.some((r) => r.startsWith('HEAD ')), 'checked by HEAD');
  });
});

describe('s3 destination: deleteLocal', () => {
  it('removes the recording only once every file is uploaded and verified', { timeout: 60_000 }, async () => {
    const s = await server();
    const dataDir = tmp('s3-delete');
    dirs.push(dataDir);
    const rec = await makeRecording(dataDir, STREAM);
    const { paths } = await snapshot(rec.dir);
    const before = new Map(paths.map((p) => [p, readFileSync(join(rec.dir, p))]));
    const presentAtRequest: boolean[] = [];
    s.onRequest = () => presentAtRequest.push(existsSync(rec.dir) && existsSync(join(rec.dir, 'manifest.json')));
    const d = destination(s, dataDir, { deleteLocal: true });
    const files = await d.recordingFinished!(rec);
    s.onRequest = undefined;
    assert.equal(files.length, paths.length);
    assert.ok(presentAtRequest.length > paths.length && presentAtRequest.every(Boolean), 'the directory was there for every request, the last read-back included');
    assert.equal(existsSync(rec.dir), false, 'deleted after the upload');
    const c = client(s);
    for (const p of paths) {
      const got = await c.send(new GetObjectCommand({ Bucket: s.bucket, Key: objectKey(PREFIX, STREAM, p) }));
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(before.get(p)!), `${p} held by the bucket`);
    }
    c.destroy();
  });

  it('keeps the recording when the upload fails for good (max age), and reports the failure', { timeout: 60_000 }, async () => {
    const s = await server();
    await s.stop();
    const dataDir = tmp('s3-fail');
    dirs.push(dataDir);
    const rec = await makeRecording(dataDir, STREAM);
    const { paths } = await snapshot(rec.dir);
    const lines: string[] = [];
    const logger = { info: (o: object, m?: string) => lines.push(JSON.stringify(o) + m), warn: (o: object, m?: string) => lines.push(JSON.stringify(o) + m), error: (o: object, m?: string) => lines.push(JSON.stringify(o) + m) };
    const d = createS3Destination({ ...config(s), deleteLocal: true, maxAgeHours: 1.5 / 3600, accessKeyId: 'AKIA-NEVER-LOGGED', secretAccessKey: 'secret-never-logged' }, { dataDir, logger });
    dests.push(d);
    await assert.rejects(d.recordingFinished!(rec), (e: unknown) => e instanceof DeliveryError && e.code === 'DELIVERY_UPLOAD_FAILED');
    assert.ok(lines.some((l) => /retrying/.test(l)) && lines.some((l) => /DELIVERY_UPLOAD_FAILED/.test(l)), 'the outage and the failure are logged');
    assert.ok(!lines.some((l) => /never-logged/i.test(l)), 'credentials never reach the log');
    assert.ok(existsSync(join(rec.dir, 'manifest.json')), 'nothing deleted');
    const st = d.stats();
    assert.equal(st.failed, paths.length, 'every file counted failed');
    assert.equal(st.queued, 0);
    const [journal] = await new UploadJournal(dataDir, 's3-test').all();
    assert.ok(journal?.failedAt, 'the journal records the failure');
    // A restarted process does not retry a recording that gave up.
    const next = destination(s, dataDir, { deleteLocal: true });
    await next.start!();
    assert.equal(next.stats().queued, 0);
  });
});

describe('s3 destination: a store without flexible checksums', () => {
  it('uploads without the checksum headers once the server refuses them; the SHA-256 metadata still verifies', { timeout: 60_000 }, async () => {
    const s = await server();
    const proxy = new CountingProxy(s.port);
    await proxy.start();
    let refused = 0;
    // As some S3-compatible stores answer: 400 naming the header.
    proxy.intercept = (req, res) => {
      if (!Object.keys(req.headers).some((h) => h.startsWith('x-amz-checksum-') || h === 'x-amz-sdk-checksum-algorithm')) return false;
      refused++;
      req.resume();
      res.writeHead(400, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidRequest</Code><Message>x-amz-checksum-sha256 is not supported</Message><RequestId>1</RequestId></Error>');
      return true;
    };
    const dataDir = tmp('s3-nochecksum');
    dirs.push(dataDir);
    const rec = await makeRecording(dataDir, STREAM);
    const { paths } = await snapshot(rec.dir);
    const d = createS3Destination({ ...config(s), endpoint: `http://127.0.0.1:${proxy.port}` }, { dataDir });
    dests.push(d);
    try {
      const files = await d.recordingFinished!(rec);
      assert.equal(files.length, paths.length);
      assert.ok(refused >= 1, 'the checksum headers were sent first');
      assert.equal(d.stats().retried, 0, 'the fallback is not an outage');
      for (const path of paths) assert.equal(s.writesOf(objectKey(PREFIX, STREAM, path)), 1, `${path} stored once`);
      await assertIdentical(s, rec.dir, paths);
    } finally {
      await proxy.stop();
    }
  });
});
