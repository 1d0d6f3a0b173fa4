/** stream_summaries in both stores (SQLite migration 4, PostgreSQL migration 5): saved, replaced, read back. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Store, SummaryRecord } from '../../src/store/types.js';

const URL = process.env.OPENRTMS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `openrtms_llm_${process.pid}_${Date.now().toString(36)}`;
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function postgres(): Promise<Store | string> {
  const admin = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    return `PostgreSQL not reachable at ${URL} (${(err as { code?: string }).code})`;
  }
  const store = new PostgresStore({ connectionString: URL, schema: SCHEMA });
  cleanups.push(async () => {
    await store.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await admin.end();
  });
  await store.migrate();
  return store;
}

async function sqlite(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'openrtms-llm-store-'));
  const store = new SqliteStore({ path: join(dir, 'openrtms.db') });
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await store.migrate();
  return store;
}

for (const [name, open, version] of [['SQLite', sqlite, 4], ['PostgreSQL', postgres, 5]] as const) {
  describe(`${name} summaries`, () => {
    it(`migration ${version} creates them; a record is saved, replaced and read back whole`, async (t) => {
      const store = await open();
      if (typeof store === 'string') return t.skip(store);
      assert.ok((await store.schemaVersion()) >= version);
      assert.equal(await store.summary('s1'), undefined);
      const notes: SummaryRecord = { rtmsStreamId: 's1', notes: '- Alice: <b>ok</b>', notesUpdatedAt: 1000, provider: 'openai', model: 'm', inputTokens: 10, outputTokens: 5, updatedAt: 1000 };
      await store.saveSummary(notes);
      assert.deepEqual(await store.summary('s1'), notes);
      const final: SummaryRecord = { ...notes, summary: { overview: 'O', decisions: ['D'], actionItems: [{ task: 'T', owner: 'Bob', due: 'Friday' }, { task: 'U' }] }, summaryUpdatedAt: 2000, inputTokens: 30, outputTokens: 12, costUsd: 0.000123, updatedAt: 2000 };
      await store.saveSummary(final);
      assert.deepEqual(await store.summary('s1'), final);
      assert.equal(await store.summary('s2'), undefined);
    });
  });
}
