/**
 * The store's part of deleting a stream and of idempotent writes, on SQLite and PostgreSQL:
 * - deleteStream removes every row of one stream (search finds nothing), leaves the others alone,
 *   and the one list in store/deletion.ts covers every table of the schema that has a stream id;
 * - a batch written twice, with the same id or through two sinks (a cluster takeover replays a
 *   stream's batches through a new sink whose batch ids differ), leaves no duplicate, FTS included;
 * - the maintenance lease has one holder at a time.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { NON_STREAM_TABLES, STREAM_TABLES } from '../../src/store/deletion.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { StoreSink } from '../../src/store/sink.js';
import type { Store, WriteBatch } from '../../src/store/types.js';

const PG_URL = process.env.OPENRTMS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUN = `openrtms_del_${process.pid}_${Date.now().toString(36)}`;
const T0 = 1_700_000_000_000;
const dirs: string[] = [];
const schemas: string[] = [];
const stores: Store[] = [];

after(async () => {
  for (const s of stores) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (schemas.length) {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await admin.end();
  }
});

async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

const kinds: { name: string; make(): Promise<Store | undefined>; tables(s: Store): Promise<Map<string, string[]>> }[] = [
  {
    name: 'SQLite',
    async make() {
      const dir = mkdtempSync(join(tmpdir(), 'openrtms-del-store-'));
      dirs.push(dir);
      const s = new SqliteStore({ path: join(dir, 'openrtms.db'), groupCommitMs: 0 });
      await s.migrate();
      stores.push(s);
      return s;
    },
    async tables(s) {
      // A second connection on the same file, read-only: the schema as SQLite has it.
      const db = (await import('better-sqlite3')).default(s.location, { readonly: true });
      try {
        const out = new Map<string, string[]>();
        for (const { name } of db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'search_index_%' AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[]) {
          out.set(name, (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(name) as { name: string }[]).map((c) => c.name));
        }
        return out;
      } finally {
        db.close();
      }
    },
  },
  {
    name: 'PostgreSQL',
    async make() {
      if (!(await pgReachable())) return undefined;
      const schema = `${RUN}_${schemas.length}`;
      schemas.push(schema);
      const s = new PostgresStore({ connectionString: PG_URL, schema });
      await s.migrate();
      stores.push(s);
      return s;
    },
    async tables(s) {
      const schema = schemas[stores.filter((x) => x.kind === 'postgres').indexOf(s)];
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        const rows = (await c.query('SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1', [schema])).rows as { table_name: string; column_name: string }[];
        const out = new Map<string, string[]>();
        for (const r of rows) out.set(r.table_name, [...(out.get(r.table_name) ?? []), r.column_name]);
        return out;
      } finally {
        await c.end();
      }
    },
  },
];

const stream = (id: string) => ({ rtmsStreamId: id, meetingUuid: `meeting-${id}`, product: 'meeting' as const, startedAt: T0 });

function batch(id: string, batchId: string): WriteBatch {
  return {
    stream: stream(id),
    batchId,
    transcript: [
      { userId: 1, userName: 'Ann', text: 'the secret budget is 42', timestamp: T0 + 1 },
      { userId: 2, userName: 'Bob', text: 'agreed, budget approved', timestamp: T0 + 2 },
    ],
    chat: [
      { userId: 1, userName: 'Ann', text: 'plain budget chat', timestamp: T0 + 3 },
      { userId: 2, userName: 'Bob', text: 'v2 budget chat', timestamp: T0 + 4, messageId: 'm1' },
      { userId: 2, userName: 'Bob', text: 'v2 budget chat, edited', timestamp: T0 + 5, messageId: 'm1', operation: 'update', audit: true },
      { userId: 1, userName: 'Ann', text: '', timestamp: T0 + 6, messageId: 'm1', operation: 'reaction_add', emoji: '👍' },
    ],
    events: [
      { type: 'participant_join', timestamp: T0, userId: 1, userName: 'Ann' },
      { type: 'active_speaker', timestamp: T0 + 1, userId: 1, userName: 'Ann', data: { a: 1 } },
    ],
    participants: [{ userId: 1, userName: 'Ann', firstSeen: T0 }],
  };
}

async function snapshot(s: Store, id: string) {
  return { transcript: await s.transcript(id), chat: await s.chat(id), audit: await s.chatAudit(id), events: await s.events(id), hits: (await s.search('budget', { streamId: id })).length, rows: await s.streamRows(id) };
}

for (const k of kinds) {
  describe(`${k.name}: deletion and idempotent writes`, () => {
    it('the same batch twice, and through two sinks with their own batch ids: no duplicate row, no duplicate search hit', async (t) => {
      const s = await k.make();
      if (!s) return t.skip('PostgreSQL not reachable');
      await s.write(batch('s1', 'sinkA-1'));
      const once = await snapshot(s, 's1');
      assert.equal(once.transcript.length, 2);
      assert.equal(once.chat.length, 2);
      assert.equal(once.hits, 4);
      await s.write(batch('s1', 'sinkA-1')); // a retry of the same batch
      await s.write(batch('s1', 'sinkB-1')); // the takeover's sink replays it under its own id
      await Promise.all([s.write(batch('s1', 'sinkC-1')), s.write(batch('s1', 'sinkD-1'))]);
      assert.deepEqual(await snapshot(s, 's1'), once);
      // A genuinely new segment still goes in.
      await s.write({ stream: stream('s1'), batchId: 'sinkB-2', transcript: [{ userId: 1, userName: 'Ann', text: 'the secret budget is 42', timestamp: T0 + 10 }] });
      assert.equal((await s.transcript('s1')).length, 3);
    });

    it('a takeover: a second StoreSink replays the frames the first one already stored; nothing is stored twice', async (t) => {
      const s = await k.make();
      if (!s) return t.skip('PostgreSQL not reachable');
      const info = { rtmsStreamId: 'to', meetingUuid: 'm-to', product: 'meeting' as const, startedAt: T0 };
      const feed = (sink: StoreSink, from: number, to: number) => {
        for (let i = from; i < to; i++) {
          sink.onTranscript({ userId: 7, userName: 'Ann', text: `budget line ${i}`, timestamp: T0 + i * 100, receivedAt: T0 + i * 100 });
          if (i % 4 === 0) sink.onChat({ userId: 7, userName: 'Ann', text: `budget chat ${i}`, timestamp: T0 + i * 100 + 1, receivedAt: T0 + i * 100 + 1 });
          sink.onEvent({ type: 'active_speaker', timestamp: T0 + i * 100, userId: 7, userName: 'Ann' });
        }
      };
      const first = new StoreSink(s, info, { flushIntervalMs: 5 });
      feed(first, 0, 20);
      await first.close(); // the old owner wrote 0..19, then died
      const second = new StoreSink(s, info, { flushIntervalMs: 5 });
      feed(second, 12, 30); // the new owner gets 12..29 again from its own buffers: 12..19 twice
      await second.close();
      assert.equal((await s.transcript('to')).length, 30);
      assert.deepEqual((await s.transcript('to')).map((x) => x.text), Array.from({ length: 30 }, (_, i) => `budget line ${i}`));
      assert.equal((await s.chat('to')).length, 8);
      assert.equal((await s.events('to')).filter((e) => e.type === 'active_speaker').length, 30);
      assert.equal((await s.search('budget', { streamId: 'to', limit: 500 })).length, 38, 'each line indexed once');
    });

    it('deleteStream removes every row of the stream and its search entries, and nothing of another stream', async (t) => {
      const s = await k.make();
      if (!s) return t.skip('PostgreSQL not reachable');
      await s.write(batch('gone', 'g1'));
      await s.write(batch('kept', 'k1'));
      await s.upsertFiles('gone', [{ path: 'audio/mixed.wav', kind: 'audio', bytes: 10 }]);
      await s.saveSummary({ rtmsStreamId: 'gone', notes: '- budget', provider: 'openai', model: 'm', inputTokens: 1, outputTokens: 1, updatedAt: 1 });
      const before = await s.streamRows('gone');
      assert.deepEqual(before, { streams: 1, meetings: 1, transcript: 2, chat: 2, chatAudit: 1, events: 2, participants: 1, files: 1, summaries: 1 });
      const kept = await snapshot(s, 'kept');
      assert.deepEqual(await s.deleteStream('gone'), before);
      assert.equal(await s.getStream('gone'), undefined);
      assert.equal(await s.getMeeting('meeting-gone'), undefined);
      assert.equal(await s.streamRows('gone'), undefined);
      assert.deepEqual(await s.search('budget', { streamId: 'gone' }), []);
      assert.equal(await s.summary('gone'), undefined);
      assert.ok((await s.search('budget')).every((h) => h.rtmsStreamId === 'kept'));
      assert.deepEqual((await s.listStreams()).map((x) => x.rtmsStreamId), ['kept']);
      for (const read of [s.transcript('gone'), s.chat('gone'), s.chatAudit('gone'), s.events('gone'), s.files('gone')]) assert.deepEqual(await read, []);
      assert.deepEqual(await snapshot(s, 'kept'), kept);
      assert.equal(await s.deleteStream('gone'), undefined, 'a second delete finds nothing');
    });

    it('a meeting shared by two streams stays until its last stream is deleted', async (t) => {
      const s = await k.make();
      if (!s) return t.skip('PostgreSQL not reachable');
      await s.upsertStream({ ...stream('a'), meetingUuid: 'shared' });
      await s.upsertStream({ ...stream('b'), meetingUuid: 'shared' });
      assert.equal((await s.deleteStream('a'))?.meetings, 0);
      assert.ok(await s.getMeeting('shared'));
      assert.equal((await s.deleteStream('b'))?.meetings, 1);
      assert.equal(await s.getMeeting('shared'), undefined);
    });

    it('store/deletion.ts lists every table of the schema that has an rtms_stream_id column', async (t) => {
      const s = await k.make();
      if (!s) return t.skip('PostgreSQL not reachable');
      const listed = new Set<string>([...STREAM_TABLES.map((x) => x.table), ...NON_STREAM_TABLES]);
      for (const [table, columns] of await k.tables(s)) {
        if (columns.includes('rtms_stream_id')) assert.ok(listed.has(table), `table ${table} holds stream rows: add it to STREAM_TABLES in src/store/deletion.ts`);
      }
    });

    it('maintenance lease: one holder until it expires or is released; lastDone survives', async (t) => {
      const s = await k.make();
      if (!s) return t.skip('PostgreSQL not reachable');
      assert.deepEqual(await s.acquireLease('retention', 'w1', 1000, T0), { acquired: true });
      assert.deepEqual(await s.acquireLease('retention', 'w2', 1000, T0 + 10), { acquired: false });
      assert.equal((await s.acquireLease('retention', 'w1', 1000, T0 + 20)).acquired, true, 'the holder renews');
      await s.releaseLease('retention', 'w1', T0 + 30);
      assert.deepEqual(await s.acquireLease('retention', 'w2', 1000, T0 + 40), { acquired: true, lastDone: T0 + 30 });
      assert.deepEqual(await s.acquireLease('retention', 'w1', 1000, T0 + 50), { acquired: false, lastDone: T0 + 30 });
      assert.equal((await s.acquireLease('retention', 'w1', 1000, T0 + 2000)).acquired, true, 'an expired lease is taken over');
    });
  });
}
