/**
 * What deleting a stream removes from the store: ONE list of the tables that hold a stream's rows,
 * used by both implementations for the deletion and for its dry run (the counts). A table added by a
 * later migration that has an `rtms_stream_id` column must be listed here: test/store/deletion.test.ts
 * compares this list with the schema and fails until it is.
 */

/** Tables with an `rtms_stream_id` column, children of `streams`; deleted first, in this order. */
export const STREAM_TABLES = [
  // The search index follows these two: SQLite's FTS rows go with them (triggers), PostgreSQL's tsvector is a column of theirs.
  { table: 'transcript_segments', count: 'transcript' },
  { table: 'chat_messages', count: 'chat' },
  { table: 'chat_audit', count: 'chatAudit' },
  { table: 'events', count: 'events' },
  { table: 'participants', count: 'participants' },
  { table: 'recording_files', count: 'files' },
  { table: 'stream_summaries', count: 'summaries' },
] as const;

export type StreamTableCount = (typeof STREAM_TABLES)[number]['count'];

/** Rows of one stream per kind, plus its stream row and (when no other stream shares it) its meeting row. */
export type StreamRows = Record<StreamTableCount | 'streams' | 'meetings', number>;

/** Tables that are not a stream's (schema, leases, meetings and streams themselves). */
export const NON_STREAM_TABLES = ['schema_migrations', 'maintenance_leases', 'meetings', 'streams', 'search_index'] as const;

export function emptyRows(): StreamRows {
  const out = { streams: 0, meetings: 0 } as StreamRows;
  for (const t of STREAM_TABLES) out[t.count] = 0;
  return out;
}
