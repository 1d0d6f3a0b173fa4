/**
 * openStore(): picks the implementation from configuration — PostgreSQL when a database URL is
 * given (DATABASE_URL), otherwise SQLite at `<data-dir>/openrtms.db` — opens it and applies
 * pending migrations.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, StoreError } from '../errors.js';
import { PostgresStore, redactUrl } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './types.js';

/** File name of the SQLite database inside the data directory. */
export const SQLITE_FILE = 'openrtms.db';

export interface OpenStoreOptions {
  /** Data directory (default OPENRTMS_DATA_DIR, else ./data); SQLite lives in it. */
  dataDir?: string;
  /** postgres:// URL; selects PostgreSQL. Default: DATABASE_URL (pass `null` to ignore it). */
  databaseUrl?: string | null;
  /** PostgreSQL schema for the tables (tests, shared databases). */
  schema?: string;
  /**
   * Only open an existing database, read-only for SQLite, without migrating (the `search`
   * command). A missing database is a StoreError `STORE_NOT_FOUND`. Default false.
   */
  existingOnly?: boolean;
}

/** The SQLite file openStore() would use for a data directory. */
export function sqlitePath(dataDir?: string): string {
  return resolve(join(dataDir ?? (process.env.OPENRTMS_DATA_DIR || './data'), SQLITE_FILE));
}

/** Opens (and migrates) the configured store. Close it with `store.close()`. */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const url = options.databaseUrl === null ? undefined : (options.databaseUrl ?? process.env.DATABASE_URL ?? undefined);
  if (url) {
    if (!/^postgres(ql)?:\/\//i.test(url)) {
      throw new ConfigError('CONFIG_INVALID', `DATABASE_URL must be a postgres:// URL, got "${redactUrl(url)}"`);
    }
    const store = new PostgresStore({ connectionString: url, schema: options.schema });
    try {
      if (options.existingOnly) {
        if ((await store.schemaVersion()) === 0) {
          throw new StoreError('STORE_NOT_FOUND', `no openrtms tables in ${store.location}; run openrtms serve once to create them`, { location: store.location });
        }
      } else {
        await store.migrate();
      }
      return store;
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  const path = sqlitePath(options.dataDir);
  if (options.existingOnly && !existsSync(path)) {
    throw new StoreError('STORE_NOT_FOUND', `no database at ${path}; record a stream first (openrtms demo) or pass --data-dir`, { path });
  }
  const store = new SqliteStore({ path, readonly: options.existingOnly ?? false });
  try {
    if (options.existingOnly) {
      if ((await store.schemaVersion()) === 0) throw new StoreError('STORE_NOT_FOUND', `${path} is not an openrtms database (no schema)`, { path });
    } else {
      await store.migrate();
    }
    return store;
  } catch (err) {
    await store.close();
    throw err;
  }
}
