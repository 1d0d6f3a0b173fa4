import pg from 'pg';
import { POSTGRES_MIGRATIONS } from '../../src/store/migrations.js';
import { PostgresStore } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/types.js';
import { storeContract } from './contract.js';

/** The test server (trust auth). Override with OPENRTMS_TEST_DATABASE_URL. */
const URL = process.env.OPENRTMS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUN = `openrtms_test_${process.pid}_${Date.now().toString(36)}`;

storeContract('PostgreSQL', async () => {
  const admin = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `PostgreSQL not reachable at ${URL} (${e.code})`;
    throw err;
  }
  const schemas = new Map<Store, string>();
  let n = 0;
  return {
    migrations: POSTGRES_MIGRATIONS,
    async create() {
      const schema = `${RUN}_${n++}`;
      const store = new PostgresStore({ connectionString: URL, schema });
      schemas.set(store, schema);
      await store.migrate();
      return store;
    },
    async reopen(store, migrations) {
      const other = new PostgresStore({ connectionString: URL, schema: schemas.get(store), migrations });
      schemas.set(other, schemas.get(store)!);
      return other;
    },
    async cleanup() {
      for (const schema of new Set(schemas.values())) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  };
});
