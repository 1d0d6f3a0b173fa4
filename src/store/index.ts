export type * from './types.js';
export { openStore, sqlitePath, SQLITE_FILE, type OpenStoreOptions } from './open.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite.js';
export { PostgresStore, type PostgresStoreOptions } from './postgres.js';
export { StoreSink, type StoreSinkOptions, type StoreSinkStats, type StoreSinkLogger } from './sink.js';
export { snippetToAnsi, snippetToText, parseSearchQuery } from './query.js';
export { SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS, type Migration } from './migrations.js';
