import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from '../../src/store/migrations.js';
import { openStore, sqlitePath } from '../../src/store/open.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { StoreError } from '../../src/errors.js';
import { storeContract } from './contract.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'openrtms-store-'));
  dirs.push(d);
  return d;
};

storeContract('SQLite', async () => ({
  migrations: SQLITE_MIGRATIONS,
  async create() {
    const store = new SqliteStore({ path: join(tmp(), 'openrtms.db') });
    await store.migrate();
    return store;
  },
  async reopen(store, migrations) {
    return new SqliteStore({ path: store.location, migrations });
  },
  async cleanup() {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  },
}));

describe('SQLite specifics', () => {
  it('group commit: concurrent writes share a transaction, a bad batch fails alone, close() commits what was accepted', async () => {
    const path = join(tmp(), 'openrtms.db');
    const store = new SqliteStore({ path, groupCommitMs: 50 });
    await store.migrate();
    const stream = (i: number) => ({ rtmsStreamId: `g${i}`, meetingUuid: 'm-group', product: 'meeting' as const, startedAt: 1_000 + i });
    const line = (text: unknown) => ({ userId: 1, userName: 'A', text: text as string, timestamp: 1_000 });
    const started = performance.now();
    await store.write({ stream: stream(0), transcript: [line('first')] });
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => store.write({ stream: stream(i + 1), transcript: [line(i === 7 ? { not: 'text' } : `line ${i + 1}`)] })));
    assert.ok(performance.now() - started >= 45, 'the second commit waited for the group window');
    assert.deepEqual(results.map((r) => r.status).filter((s) => s === 'rejected').length, 1, 'only the bad batch failed');
    assert.equal(results[7].status, 'rejected');
    assert.equal((await store.listStreams({ limit: 100 })).length, 40, 'every other stream written');
    assert.deepEqual((await store.transcript('g2')).map((t) => t.text), ['line 2']);
    void store.write({ stream: stream(99), transcript: [line('at close')] });
    await store.close();
    const again = new SqliteStore({ path });
    try {
      assert.deepEqual((await again.transcript('g99')).map((t) => t.text), ['at close']);
    } finally {
      await again.close();
    }
  });

  it('openStore() without DATABASE_URL creates <data-dir>/openrtms.db in WAL mode', async () => {
    const dir = tmp();
    const store = await openStore({ dataDir: join(dir, 'nested'), databaseUrl: null });
    try {
      assert.equal(store.kind, 'sqlite');
      assert.equal(store.location, sqlitePath(join(dir, 'nested')));
      assert.ok(existsSync(store.location));
    } finally {
      await store.close();
    }
    const db = new Database(join(dir, 'nested', 'openrtms.db'), { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('existingOnly: a missing database is STORE_NOT_FOUND and nothing is created', async () => {
    const dir = tmp();
    await assert.rejects(openStore({ dataDir: dir, databaseUrl: null, existingOnly: true }), (err: StoreError) => err.code === 'STORE_NOT_FOUND' && err.message.includes(dir));
    assert.ok(!existsSync(join(dir, 'openrtms.db')));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a non-postgres DATABASE_URL is a configuration error', async () => {
    await assert.rejects(openStore({ databaseUrl: 'mysql://x@y/z' }), (err: StoreError) => err.code === 'CONFIG_INVALID');
  });
});
