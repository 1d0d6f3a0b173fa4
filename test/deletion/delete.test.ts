/**
 * Deleting a meeting, end to end: the real serve runtime records an emulated meeting (SQLite store,
 * recordings, an S3 destination on s3rver, a signed webhook destination), uploads it, and then
 * `DELETE /api/streams/:id` is refused while the stream is live, measured by a dry run, and finally
 * removes it: afterwards search, listing, every read route, the recording directory, the bucket
 * (nothing under the stream's prefix), the outbox and the upload journal hold nothing of it, and the
 * audit file has one line naming who deleted what, without any transcript, chat or name.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { openStore } from '../../src/store/open.js';
import { createRuntime } from '../../src/server/runtime.js';
import { objectKey } from '../../src/delivery/uploads.js';
import { UploadJournal } from '../../src/delivery/upload-journal.js';
import { tokenId } from '../../src/deletion/deleter.js';
import { Receiver } from '../delivery/receiver.js';
import { S3Server, freePort } from '../delivery/storage-helpers.js';

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const creds = { clientId: 'del-client', clientSecret: 'del-secret', secretToken: 'del-token' };
const TOKEN = 'del-api-token-0123456789';
const PREFIX = 'rtms/';
const quiet = { info() {}, warn() {}, error() {} };

const PG_URL = process.env.OPENRTMS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function pgSchema(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
  } catch {
    return undefined;
  }
  const schema = `openrtms_del_e2e_${process.pid}_${Date.now().toString(36)}`;
  cleanups.push(async () => {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  });
  return schema;
}

for (const kind of ['sqlite', 'postgres'] as const)
describe(`DELETE /api/streams/:id (${kind}): a recorded, uploaded meeting is gone from everywhere`, () => {
  it('refused while live, dry run counts, then nothing of it anywhere and one content-free audit line', { timeout: 90_000 }, async (t) => {
    const schema = kind === 'postgres' ? await pgSchema() : undefined;
    if (kind === 'postgres' && !schema) return t.skip(`PostgreSQL not reachable at ${PG_URL}`);
    const s3 = new S3Server(await freePort());
    await s3.start();
    cleanups.push(() => rmSync(s3.dir, { recursive: true, force: true }), () => s3.stop());
    const rx = new Receiver('del-hook-secret');
    await rx.listen();
    cleanups.push(() => rx.close());
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-del-e2e-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const store = await openStore({ dataDir, databaseUrl: kind === 'postgres' ? PG_URL : null, schema });
    const runtime = createRuntime({
      ...creds,
      webhookPath: '/webhook',
      store,
      dataDir,
      apiToken: TOKEN,
      logger: quiet,
      destinations: [
        { type: 's3', name: 'archive', bucket: s3.bucket, prefix: PREFIX, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', deleteLocal: false },
        { type: 'webhook', name: 'crm', url: rx.url, secret: rx.secret, maxAgeHours: 24, timeoutMs: 2000 },
      ],
      deliveryTuning: { initialBackoffMs: 100, maxBackoffMs: 500, pollMs: 50 },
    });
    const { url } = await runtime.app.listen(0, '127.0.0.1');
    cleanups.push(() => runtime.shutdown());
    const api = (path: string, init: RequestInit = {}) => fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) } });

    // A second meeting that is kept: deletion must not touch it.
    const emu = new Emulator({ ...creds, webhookUrl: `${url}/webhook`, product: 'meeting', scenario: demoScenario(5), seed: 3, meetings: 2 });
    await emu.start();
    cleanups.push(() => emu.close());
    const running = emu.run();
    const id = emu.streams[0]?.id.rtmsStreamId ?? (await until(() => emu.streams.length > 0, 5000, 'a stream'), emu.streams[0].id.rtmsStreamId);
    await until(() => runtime.registry.list().some((s) => s.rtmsStreamId === id && s.state === 'ready'), 10_000, 'the stream live');
    const live = await api(`/api/streams/${encodeURIComponent(id)}`, { method: 'DELETE' });
    assert.equal(live.status, 409);
    assert.match(((await live.json()) as { error: { message: string } }).error.message, /is live .*stop it first/);
    assert.equal((await fetch(`${url}/api/streams/${encodeURIComponent(id)}`, { method: 'DELETE' })).status, 401, 'the API token is required');
    await running;
    const keptId = emu.streams[1].id.rtmsStreamId;

    // Wait for the upload (manifest last) and the webhook events of the stream.
    const s3c = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    cleanups.push(() => s3c.destroy());
    const listKeys = async (streamId: string) => ((await s3c.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: objectKey(PREFIX, streamId, '') }))).Contents ?? []).map((o) => o.Key!);
    await until(async () => (await listKeys(id)).includes(objectKey(PREFIX, id, 'manifest.json')) && (await listKeys(keptId)).includes(objectKey(PREFIX, keptId, 'manifest.json')), 30_000, 'both recordings uploaded');
    await rx.waitFor(() => rx.unique().some((r) => r.type === 'recording.ready' && r.stream.rtmsStreamId === id), 15_000, 'recording.ready');

    const transcript = ((await (await api(`/api/streams/${encodeURIComponent(id)}/transcript`)).json()) as { transcript: { text: string; userName: string }[] }).transcript;
    assert.ok(transcript.length > 0);
    const chat = ((await (await api(`/api/streams/${encodeURIComponent(id)}/chat`)).json()) as { chat: { text: string }[] }).chat;
    const word = transcript[0].text.split(/\W+/).find((w) => w.length > 4)!;
    const hitsOf = async (q: string) => ((await (await api(`/api/search?q=${encodeURIComponent(q)}&limit=500`)).json()) as { hits: { rtmsStreamId: string }[] }).hits;
    assert.ok((await hitsOf(word)).some((h) => h.rtmsStreamId === id), 'searchable before');
    const objectsBefore = (await listKeys(id)).length;
    const dir = join(dataDir, 'recordings', id);
    assert.ok(existsSync(dir));

    // Dry run: counts, removes nothing.
    const dry = await api(`/api/streams/${encodeURIComponent(id)}?dryRun=true`, { method: 'DELETE' });
    assert.equal(dry.status, 200);
    const dryReport = (await dry.json()) as { dryRun: boolean; removed: { store: { transcript: number; streams: number }; recordingFiles: number; objects: Record<string, number>; outbox: number } };
    assert.equal(dryReport.dryRun, true);
    assert.equal(dryReport.removed.store.transcript, transcript.length);
    assert.equal(dryReport.removed.objects.archive, objectsBefore);
    assert.ok(dryReport.removed.recordingFiles > 3 && dryReport.removed.outbox > 0);
    assert.ok(existsSync(dir) && (await listKeys(id)).length === objectsBefore, 'the dry run removed nothing');

    // The deletion.
    const res = await api(`/api/streams/${encodeURIComponent(id)}`, { method: 'DELETE' });
    assert.equal(res.status, 200);
    const report = (await res.json()) as typeof dryReport;
    assert.equal(report.dryRun, false);
    assert.deepEqual(report.removed.store, dryReport.removed.store);
    assert.equal(report.removed.objects.archive, objectsBefore);

    // Nothing of it anywhere.
    const enc = encodeURIComponent(id);
    const listed = ((await (await api('/api/streams')).json()) as { streams: { rtmsStreamId: string }[] }).streams.map((s) => s.rtmsStreamId);
    assert.ok(!listed.includes(id), 'not listed');
    assert.ok(listed.includes(keptId), 'the other meeting is listed');
    for (const path of [`/api/streams/${enc}`, `/api/streams/${enc}/transcript`, `/api/streams/${enc}/transcript?format=vtt`, `/api/streams/${enc}/chat`, `/api/streams/${enc}/files`, `/api/streams/${enc}/files/manifest.json`, `/api/streams/${enc}/thumbnail/video`]) {
      assert.equal((await api(path)).status, 404, path);
    }
    const events = await api(`/api/streams/${enc}/events`, { headers: { accept: 'application/json' } });
    assert.equal(events.status, 404);
    for (const t of [...transcript.slice(0, 5).map((x) => x.text), ...chat.map((c) => c.text)]) {
      const q = t.split(/\W+/).filter((w) => w.length > 3).slice(0, 3).join(' ');
      if (q) assert.ok(!(await hitsOf(q)).some((h) => h.rtmsStreamId === id), `search "${q}" finds nothing of the stream`);
    }
    assert.ok((await hitsOf(word)).every((h) => h.rtmsStreamId !== id));
    assert.equal(existsSync(dir), false, 'recording directory gone');
    assert.deepEqual(await listKeys(id), [], 'nothing under the stream prefix in the bucket');
    assert.ok((await listKeys(keptId)).length > 0, "the other meeting's objects stay");
    assert.equal(await new UploadJournal(dataDir, 'archive').read(id), undefined);
    const outbox = new Database(join(dataDir, 'delivery', 'outbox.db'), { readonly: true });
    try {
      assert.equal((outbox.prepare('SELECT COUNT(*) AS n FROM outbox WHERE stream_id = ?').get(id) as { n: number }).n, 0);
      assert.ok((outbox.prepare('SELECT COUNT(*) AS n FROM outbox WHERE stream_id = ?').get(keptId) as { n: number }).n > 0);
    } finally {
      outbox.close();
    }
    if (kind === 'sqlite') {
      const db = new Database(join(dataDir, 'openrtms.db'), { readonly: true });
      try {
        const fts = db.prepare('SELECT COUNT(*) AS n FROM search_index WHERE rtms_stream_id = ?').get(id) as { n: number };
        assert.equal(fts.n, 0, 'no FTS row left');
      } finally {
        db.close();
      }
    }
    assert.equal(await store.streamRows(id), undefined, 'no row of the stream in any table');

    // The audit line: who and how much, no content.
    const audit = readFileSync(join(dataDir, 'audit', 'deletions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    assert.equal(audit.length, 1, 'one line (dry runs are not audited)');
    assert.equal(audit[0].action, 'delete');
    assert.equal(audit[0].rtmsStreamId, id);
    assert.deepEqual(audit[0].actor, { kind: 'api', tokenId: tokenId(TOKEN), ip: '127.0.0.1' });
    assert.equal(audit[0].removed.store.transcript, transcript.length);
    const text = readFileSync(join(dataDir, 'audit', 'deletions.jsonl'), 'utf8');
    assert.ok(!text.includes(TOKEN), 'not the token');
    for (const t of transcript) assert.ok(!text.includes(t.text) && !text.includes(t.userName), 'no transcript text or speaker name');
    for (const c of chat) assert.ok(!text.includes(c.text), 'no chat text');

    // A second deletion finds nothing.
    assert.equal((await api(`/api/streams/${enc}`, { method: 'DELETE' })).status, 404);
  });
});
