/** The recording's files in upload order, their digests, object keys, and the journal. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contentTypeOf, digestFile, listRecording } from '../../src/delivery/recording-files.js';
import { objectKey } from '../../src/delivery/uploads.js';
import { UploadJournal } from '../../src/delivery/upload-journal.js';
import { tmp } from './storage-helpers.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('listRecording', () => {
  it('lists every file, nested ones with "/", manifest.json last, a writer’s *.tmp left out', async () => {
    const dir = tmp('files');
    dirs.push(dir);
    for (const p of ['manifest.json', 'audio/mixed.wav', 'audio/16778240.wav', 'video/active.mp4', 'share/share.mp4', 'frames/a/1.jpg', 'transcript.jsonl', 'chat.jsonl', 'events.jsonl', 'manifest.json.tmp', 'chat.jsonl.tmp']) {
      mkdirSync(join(dir, p, '..'), { recursive: true });
      writeFileSync(join(dir, p), p);
    }
    assert.deepEqual(await listRecording(dir), ['audio/16778240.wav', 'audio/mixed.wav', 'chat.jsonl', 'events.jsonl', 'frames/a/1.jpg', 'share/share.mp4', 'transcript.jsonl', 'video/active.mp4', 'manifest.json']);
  });
  it('refuses a directory that does not exist', async () => {
    const dir = tmp('none');
    dirs.push(dir);
    await assert.rejects(listRecording(join(dir, 'missing')), { code: 'ENOENT' });
  });
});

describe('digestFile', () => {
  it('gives the size and SHA-256 of the bytes, across read chunks', async () => {
    const dir = tmp('digest');
    dirs.push(dir);
    const bytes = randomBytes(300_000);
    writeFileSync(join(dir, 'f'), bytes);
    assert.deepEqual(await digestFile(join(dir, 'f')), { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
  });
});

describe('objectKey and content types', () => {
  it('encodes the stream id as the recorder names its directory: "/", "+", "=" never split the key', () => {
    assert.equal(objectKey('rtms/', 'a/b+c==', 'audio/mixed.wav'), 'rtms/a%2Fb%2Bc%3D%3D/audio/mixed.wav');
    assert.equal(objectKey('', '..', 'manifest.json'), '%2E%2E/manifest.json');
  });
  it('names what browsers play', () => {
    assert.equal(contentTypeOf('audio/mixed.wav'), 'audio/wav');
    assert.equal(contentTypeOf('video/active.mp4'), 'video/mp4');
    assert.equal(contentTypeOf('transcript.vtt'), 'text/vtt');
    assert.equal(contentTypeOf('events.jsonl'), 'application/x-ndjson');
    assert.equal(contentTypeOf('odd.bin'), 'application/octet-stream');
  });
});

describe('UploadJournal', () => {
  it('writes by rename (no temp file left), reads back, lists, removes; a torn file is ignored', async () => {
    const dataDir = tmp('journal');
    dirs.push(dataDir);
    const j = new UploadJournal(dataDir, 'my s3');
    const info = { rtmsStreamId: 's/1+=', product: 'meeting' as const, meetingUuid: 'm', startedAt: 1 };
    await Promise.all([1, 2, 3].map((n) => j.write({ version: 1, info, dir: '/r', queuedAt: n, uploaded: { [`f${n}`]: { url: 'u', bytes: n, sha256: 'x' } } })));
    assert.deepEqual(readdirSync(j.dir), ['s%2F1%2B%3D.json'], 'one file per recording, named by the encoded stream id');
    assert.equal(j.dir, join(dataDir, 'delivery', 'uploads', 'my%20s3'));
    const e = await j.read('s/1+=');
    assert.equal(Object.keys(e!.uploaded).length, 1, 'one whole write won');
    writeFileSync(join(j.dir, 'torn.json'), '{"version":1,"info":');
    assert.equal((await j.all()).length, 1);
    await j.remove('s/1+=');
    assert.equal(await j.read('s/1+='), undefined);
  });
});

describe('UploadJournal locks', () => {
  it('a lock from another machine holds while refreshed and is taken over once stale; one of our own is ours', async () => {
    const dataDir = tmp('lock');
    dirs.push(dataDir);
    const a = new UploadJournal(dataDir, 'd', 500);
    const b = new UploadJournal(dataDir, 'd', 500);
    assert.equal(await a.claim('s1'), true);
    assert.equal(await a.claim('s1'), true, 'claiming again is fine');
    const lock = join(a.dir, 's1.lock');
    // As if held by a process on another host (its liveness cannot be checked): only time tells.
    writeFileSync(lock, JSON.stringify({ owner: 'other:1:x', host: 'other-host', pid: 1, at: Date.now() }));
    assert.equal(await b.claim('s1'), false, 'fresh: held');
    writeFileSync(lock, JSON.stringify({ owner: 'other:1:x', host: 'other-host', pid: 1, at: Date.now() - 1000 }));
    assert.equal(await b.claim('s1'), true, 'stale: taken over');
    assert.equal(await a.claim('s1'), true, 'same pid, another instance: an earlier life of this process, so stale');
    await b.release('s1');
    assert.equal(readdirSync(a.dir).includes('s1.lock'), true, 'release only removes a lock one holds');
    await a.release('s1');
    assert.equal(readdirSync(a.dir).includes('s1.lock'), false);
  });
});
