/**
 * The upload engine both object-storage destinations share, against an in-memory store that can
 * misbehave on purpose: a read-back that does not match is uploaded again, one stream handed over
 * twice is one job, the concurrency bound holds, and a crash between deleteLocal and the journal's
 * removal finishes without touching the store.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StorageDestination, type ObjectStore, type RemoteObject } from '../../src/delivery/uploads.js';
import { UploadJournal } from '../../src/delivery/upload-journal.js';
import type { StreamInfo } from '../../src/pipeline/types.js';
import type { UploadedFile } from '../../src/delivery/types.js';
import { sleep, tmp, until } from './storage-helpers.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, { body: Buffer; sha256: string }>();
  readonly puts: string[] = [];
  /** Puts that store a wrong metadata SHA-256 (as a broken proxy or store would). */
  corruptNext = 0;
  /** Each put waits this long, to see several in flight. */
  putMs = 0;
  inFlight = 0;
  maxInFlight = 0;
  async prepare(): Promise<void> {}
  async head(key: string): Promise<RemoteObject | undefined> {
    const o = this.objects.get(key);
    return o && { bytes: o.body.length, sha256: o.sha256 };
  }
  async put(o: { key: string; file: string; sha256: string }): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await sleep(this.putMs);
      this.puts.push(o.key);
      const body = readFileSync(o.file);
      this.objects.set(o.key, { body, sha256: this.corruptNext-- > 0 ? 'bad' : o.sha256 });
    } finally {
      this.inFlight--;
    }
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix));
  }
  async remove(keys: readonly string[]): Promise<void> {
    for (const k of keys) this.objects.delete(k);
  }
  urlOf(key: string): string {
    return `mem://${key}`;
  }
  close(): void {}
}

function recording(dataDir: string, id: string): { info: StreamInfo; dir: string } {
  const dir = join(dataDir, 'recordings', id);
  mkdirSync(join(dir, 'audio'), { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ rtms_stream_id: id }));
  writeFileSync(join(dir, 'audio', 'mixed.wav'), Buffer.alloc(4096, 3));
  writeFileSync(join(dir, 'events.jsonl'), '{"type":"joined"}\n');
  return { info: { rtmsStreamId: id, product: 'meeting', meetingUuid: 'm', startedAt: 0 }, dir };
}

function dest(dataDir: string, store: ObjectStore, extra: Partial<ConstructorParameters<typeof StorageDestination>[0]> = {}, onResumed?: (f: UploadedFile[]) => void): StorageDestination {
  return new StorageDestination({ name: 'mem', type: 's3', prefix: 'p/', deleteLocal: false, retryMinMs: 20, retryMaxMs: 50, ...extra }, store, { dataDir, ...(onResumed ? { onResumedUpload: (_r, f) => onResumed(f) } : {}) });
}

describe('upload engine', () => {
  it('deleteStream during an upload: it stops before the next file, every object under the stream prefix goes, the journal too, and no other stream is touched', { timeout: 60_000 }, async () => {
    const dataDir = tmp('eng-delete');
    dirs.push(dataDir);
    const store = new MemoryStore();
    const d = dest(dataDir, store);
    await d.recordingFinished(recording(dataDir, 's10')); // a stream whose id shares the prefix "s1"
    await d.recordingFinished(recording(dataDir, 's1'));
    store.putMs = 200;
    const again = recording(dataDir, 's1');
    writeFileSync(join(dataDir, 'recordings', 's1', 'events.jsonl'), 'changed\n'); // a re-upload in progress
    const job = d.recordingFinished(again);
    await until(() => store.inFlight > 0, 5000, 'an upload in flight');
    assert.deepEqual(await d.deleteStream('s1', true), { objects: 3, journal: 1 }, 'dry run counts');
    assert.equal(store.objects.size, 6, 'a dry run removes nothing');
    const removed = await d.deleteStream('s1');
    assert.equal(removed.objects, 3);
    await assert.rejects(job, { code: 'DELIVERY_DELETED' });
    assert.deepEqual([...store.objects.keys()].sort(), ['p/s10/audio/mixed.wav', 'p/s10/events.jsonl', 'p/s10/manifest.json']);
    assert.equal(await new UploadJournal(dataDir, 'mem').read('s1'), undefined);
    await assert.rejects(d.recordingFinished(recording(dataDir, 's1')), { code: 'DELIVERY_DELETED' });
    await d.close();
  });

  it('uploads again when the read-back does not match, and counts the retry', { timeout: 60_000 }, async () => {
    const dataDir = tmp('eng-verify');
    dirs.push(dataDir);
    const store = new MemoryStore();
    store.corruptNext = 1;
    const d = dest(dataDir, store);
    const files = await d.recordingFinished(recording(dataDir, 's1'));
    assert.deepEqual(store.puts, ['p/s1/audio/mixed.wav', 'p/s1/audio/mixed.wav', 'p/s1/events.jsonl', 'p/s1/manifest.json']);
    assert.equal(store.objects.get('p/s1/audio/mixed.wav')!.sha256, createHash('sha256').update(Buffer.alloc(4096, 3)).digest('hex'));
    assert.equal(files.length, 3);
    assert.deepEqual(d.stats(), { queued: 0, delivered: 3, retried: 1, failed: 0, lagMs: 0 });
    await d.close();
  });

  it('one stream handed over twice is one job; no more recordings at once than the concurrency', { timeout: 60_000 }, async () => {
    const dataDir = tmp('eng-conc');
    dirs.push(dataDir);
    const store = new MemoryStore();
    store.putMs = 150;
    const d = dest(dataDir, store, { concurrency: 2 });
    const a = recording(dataDir, 'a');
    const p1 = d.recordingFinished(a);
    const p2 = d.recordingFinished(a);
    assert.equal(p1, p2, 'the same promise');
    const others = ['b', 'c', 'd'].map((id) => d.recordingFinished(recording(dataDir, id)));
    // The recordings waiting for a slot count too: more files queued than two recordings hold.
    await until(() => d.stats().queued > 6, 5000, 'the waiting recordings counted');
    await Promise.all([p1, ...others]);
    assert.equal(store.puts.length, 12, 'each file once');
    assert.ok(store.maxInFlight <= 2, `at most 2 uploads at once, saw ${store.maxInFlight}`);
    await d.close();
    await assert.rejects(d.recordingFinished(a), { code: 'DELIVERY_CLOSED' });
  });

  it('a crash between deleteLocal and the journal removal: the next start finishes without the store', { timeout: 60_000 }, async () => {
    const dataDir = tmp('eng-deleted');
    dirs.push(dataDir);
    const store = new MemoryStore();
    const { info, dir } = recording(dataDir, 's2');
    const uploaded = Object.fromEntries(['audio/mixed.wav', 'events.jsonl', 'manifest.json'].map((p) => [p, { url: `mem://p/s2/${p}`, bytes: 1, sha256: 'x' }]));
    await new UploadJournal(dataDir, 'mem').write({ version: 1, info, dir, queuedAt: Date.now(), uploaded });
    rmSync(dir, { recursive: true });
    let resumed: UploadedFile[] | undefined;
    const d = dest(dataDir, store, { deleteLocal: true }, (f) => (resumed = f));
    await d.start();
    await until(() => resumed !== undefined, 5000, 'the resumed job');
    assert.deepEqual(resumed!.map((f) => f.path), ['audio/mixed.wav', 'events.jsonl', 'manifest.json']);
    assert.deepEqual(store.puts, []);
    assert.deepEqual(await new UploadJournal(dataDir, 'mem').all(), []);
    await d.close();
  });

  it('a recording whose directory is gone, with nothing journaled, fails at once as DELIVERY_SOURCE_MISSING', { timeout: 60_000 }, async () => {
    const dataDir = tmp('eng-missing');
    dirs.push(dataDir);
    const d = dest(dataDir, new MemoryStore());
    await assert.rejects(d.recordingFinished({ info: { rtmsStreamId: 'gone', product: 'meeting', meetingUuid: 'm', startedAt: 0 }, dir: join(dataDir, 'nope') }), { code: 'DELIVERY_SOURCE_MISSING' });
    assert.equal(d.stats().failed, 1);
    await d.close();
  });
});
