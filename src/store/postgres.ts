/**
 * The deployment store: PostgreSQL through `pg` (a connection pool). Full-text search uses a
 * generated `tsvector` column with a GIN index per table, `websearch_to_tsquery` and `ts_headline`.
 * Migrations take an advisory lock so that several workers starting at once apply each one once.
 */
import pg from 'pg';
import { StoreError } from '../errors.js';
import type { Product } from '../protocol/index.js';
import type { TimelineEvent } from '../pipeline/types.js';
import { POSTGRES_MIGRATIONS, type Migration } from './migrations.js';
import { clampLimit, cleanText, markersToHtml, parseSearchQuery, toWebsearch } from './query.js';
import { SUMMARY_COLUMNS, summaryOfRow, summaryValues } from './summaries.js';
import { STREAM_TABLES, emptyRows, type StreamRows } from './deletion.js';
import { chatKey, eventKey, transcriptKey } from './natural-keys.js';
import { attributeText, chatAuditOfRow, chatExtra, chatRecordExtras, editedExtra, nextReactions } from './chat-ops.js';
import type {
  ChatAuditRecord,
  ChatRecord,
  NewChatMessage,
  EventRecord,
  ListStreamsOptions,
  MeetingRecord,
  RecordingFile,
  SearchHit,
  SearchOptions,
  Store,
  StreamDetail,
  StreamRecord,
  StreamState,
  StreamStats,
  StreamStart,
  StreamStop,
  StreamUpsert,
  TranscriptOptions,
  TranscriptSegment,
  TranscriptWord,
  WriteBatch,
  SummaryRecord,
} from './types.js';
import { sortSources } from './sources.js';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database */
  connectionString: string;
  /** Schema holding the tables (created by migrate()). Default: the server's search_path. */
  schema?: string;
  /** Pool size. Default 10: hundreds of streams flush through it. */
  maxConnections?: number;
  /** How long a query waits for a pooled connection (includes connecting). Default 15000 ms. */
  connectTimeoutMs?: number;
  /**
   * A query without an answer for this long fails, and its connection is discarded. Without it a
   * connection that died silently (no reset: a lost NAT or load-balancer state, a partition) hangs its
   * query, and every write queued behind it, for as long as TCP takes to give up (~15 min).
   * Migrations are exempt (they may wait on another process's lock). Default 30 000 ms; 0 disables.
   */
  queryTimeoutMs?: number;
  /** Migrations to apply (tests). Default: the shipped list. */
  migrations?: Migration[];
}

type Row = Record<string, unknown>;
type Db = pg.Pool | pg.PoolClient;

/** Arbitrary constant key of the advisory lock that serialises migrations. */
const MIGRATION_LOCK = 72_657_801;

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** The URL without its password, for messages and `location`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

function wrap(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as { code?: string; message?: string };
  return new StoreError('STORE_UNAVAILABLE', `PostgreSQL ${what} failed: ${e?.message || e?.code || String(err)}`, { pgCode: e?.code }, { cause: err });
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly location: string;
  #pool: pg.Pool | undefined;
  /** Connection settings shared by the pool and the migration client. */
  readonly #config: pg.ClientConfig;
  readonly #schema: string | undefined;
  readonly #migrations: Migration[];

  constructor(options: PostgresStoreOptions) {
    this.location = redactUrl(options.connectionString);
    this.#schema = options.schema;
    this.#migrations = options.migrations ?? POSTGRES_MIGRATIONS;
    this.#config = {
      connectionString: options.connectionString,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 15_000,
      keepAlive: true,
      ...(options.schema ? { options: `-c search_path=${quoteIdent(options.schema)}` } : {}),
    };
    const queryTimeout = options.queryTimeoutMs ?? 30_000;
    this.#pool = new pg.Pool({ ...this.#config, max: options.maxConnections ?? 10, ...(queryTimeout > 0 ? { query_timeout: queryTimeout } : {}) });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.#pool.on('error', () => {});
  }

  get #db(): pg.Pool {
    if (!this.#pool) throw new StoreError('STORE_CLOSED', 'the store is closed');
    return this.#pool;
  }

  async #q(what: string, sql: string, params: unknown[] = [], db?: Db): Promise<Row[]> {
    try {
      return (await (db ?? this.#db).query(sql, params)).rows as Row[];
    } catch (err) {
      throw wrap(err, what);
    }
  }

  async #tx<T>(what: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#db.connect();
    } catch (err) {
      throw wrap(err, `${what} (connect)`);
    }
    // A checked-out client has no 'error' listener of the pool's: a connection reset that arrives
    // between two queries of the transaction would be an uncaught exception (a crashed server).
    let broken: Error | undefined;
    const onError = (err: Error) => (broken ??= err);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      client.off('error', onError);
      client.release(broken);
      return result;
    } catch (err) {
      // A failed rollback means the connection is unusable: destroy it instead of pooling it.
      try {
        if (broken) throw broken;
        await client.query('ROLLBACK');
        client.off('error', onError);
        client.release(broken);
      } catch (rollbackErr) {
        client.off('error', onError);
        client.release(rollbackErr as Error);
      }
      throw wrap(err, what);
    }
  }

  async migrate(): Promise<number> {
    void this.#db; // STORE_CLOSED after close()
    // A client of its own, without the pool's query timeout: the advisory lock may be held for a while
    // by another process migrating, and a migration may take long on a big table.
    const client = new pg.Client(this.#config);
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => {});
      throw wrap(err, 'connect');
    }
    let applied = 0;
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      if (this.#schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.#schema)}`);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at BIGINT NOT NULL
      )`);
      const done = new Set((await client.query('SELECT version FROM schema_migrations')).rows.map((r: Row) => Number(r.version)));
      for (const m of [...this.#migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(m.version)) continue;
        try {
          await client.query('BEGIN');
          for (const sql of m.up) await client.query(sql);
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
          await client.query('COMMIT');
          applied++;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw new StoreError('STORE_MIGRATION_FAILED', `PostgreSQL migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { version: m.version }, { cause: err });
        }
      }
    } catch (err) {
      throw err instanceof StoreError ? err : wrap(err, 'migrate');
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
      await client.end().catch(() => {});
    }
    return applied;
  }

  async schemaVersion(): Promise<number> {
    const exists = await this.#q('schemaVersion', `SELECT to_regclass('schema_migrations') IS NOT NULL AS e`);
    if (!exists[0]?.e) return 0;
    const rows = await this.#q('schemaVersion', 'SELECT MAX(version) AS v FROM schema_migrations');
    return Number(rows[0]?.v ?? 0);
  }

  // ---- writes -------------------------------------------------------------------------------

  async #ensureStream(c: Db, s: StreamStart): Promise<void> {
    await c.query('INSERT INTO meetings (meeting_uuid, product, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [s.meetingUuid, s.product, Date.now()]);
    await c.query(
      `INSERT INTO streams (rtms_stream_id, meeting_uuid, product, operator_id, state, started_at)
       VALUES ($1, $2, $3, $4, 'starting', $5) ON CONFLICT DO NOTHING`,
      [s.rtmsStreamId, s.meetingUuid, s.product, s.operatorId ?? null, s.startedAt],
    );
  }

  async #setState(c: Db, id: string, state: StreamState): Promise<void> {
    await c.query(`UPDATE streams SET state = $1 WHERE rtms_stream_id = $2 AND state <> 'stopped'`, [state, id]);
  }

  async #markStopped(c: Db, id: string, stop: StreamStop): Promise<void> {
    await c.query(
      `UPDATE streams SET state = 'stopped', stopped_at = COALESCE(stopped_at, $1),
         stop_reason = COALESCE(stop_reason, $2), close_reason = COALESCE(close_reason, $3)
       WHERE rtms_stream_id = $4`,
      [stop.stoppedAt, stop.stopReason ?? null, stop.closeReason ?? null, id],
    );
  }

  async #addStats(c: Db, id: string, delta: StreamStats): Promise<void> {
    if (!Object.keys(delta).length) return;
    await c.query(
      `UPDATE streams SET stats = stats || (
         SELECT jsonb_object_agg(d.key, COALESCE(CASE WHEN jsonb_typeof(stats -> d.key) = 'number' THEN (stats ->> d.key)::float8 END, 0) + d.value::float8)
         FROM jsonb_each_text($2::jsonb) AS d)
       WHERE rtms_stream_id = $1`,
      [id, JSON.stringify(delta)],
    );
  }

  upsertStream(s: StreamUpsert): Promise<void> {
    return this.#tx('upsertStream', async (c) => {
      await c.query('INSERT INTO meetings (meeting_uuid, product, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [s.meetingUuid, s.product, Date.now()]);
      await c.query(
        `INSERT INTO streams (rtms_stream_id, meeting_uuid, product, operator_id, state, started_at)
         VALUES ($1, $2, $3, $4, COALESCE($5, 'starting'), $6)
         ON CONFLICT (rtms_stream_id) DO UPDATE SET
           meeting_uuid = excluded.meeting_uuid,
           product = excluded.product,
           operator_id = COALESCE(excluded.operator_id, streams.operator_id),
           started_at = LEAST(streams.started_at, excluded.started_at),
           state = CASE WHEN streams.state = 'stopped' OR $5::text IS NULL THEN streams.state ELSE $5::text END`,
        [s.rtmsStreamId, s.meetingUuid, s.product, s.operatorId ?? null, s.state ?? null, s.startedAt],
      );
      if (s.state === 'stopped') await this.#markStopped(c, s.rtmsStreamId, { stoppedAt: Date.now() });
    });
  }

  async setStreamState(id: string, state: Exclude<StreamState, 'stopped'>): Promise<void> {
    try {
      await this.#setState(this.#db, id, state);
    } catch (err) {
      throw wrap(err, 'setStreamState');
    }
  }

  async markStopped(id: string, stop: StreamStop): Promise<void> {
    try {
      await this.#markStopped(this.#db, id, stop);
    } catch (err) {
      throw wrap(err, 'markStopped');
    }
  }

  async addStats(id: string, delta: StreamStats): Promise<void> {
    try {
      await this.#addStats(this.#db, id, delta);
    } catch (err) {
      throw wrap(err, 'addStats');
    }
  }

  upsertFiles(id: string, files: RecordingFile[]): Promise<void> {
    if (!files.length) return this.#q('upsertFiles', 'SELECT 1').then(() => undefined);
    return this.#tx('upsertFiles', async (c) => {
      await c.query(
        `INSERT INTO recording_files (rtms_stream_id, path, kind, bytes, duration_ms)
         SELECT $1, f.path, f.kind, f.bytes, f.duration_ms
         FROM jsonb_to_recordset($2::jsonb) AS f(path text, kind text, bytes bigint, duration_ms bigint)
         ON CONFLICT (rtms_stream_id, path) DO UPDATE SET kind = excluded.kind, bytes = excluded.bytes, duration_ms = excluded.duration_ms`,
        [id, JSON.stringify(files.map((f) => ({ path: f.path, kind: f.kind, bytes: f.bytes, duration_ms: f.durationMs ?? null })))],
      );
    });
  }

  write(batch: WriteBatch): Promise<void> {
    // Rows go in as one JSON array per table (one round trip each, whatever the batch size).
    return this.#tx('write', async (c) => {
      const id = batch.stream.rtmsStreamId;
      await this.#ensureStream(c, batch.stream);
      if (batch.batchId) {
        // Also locks the stream row, so one stream's batches apply one at a time.
        const fresh = await c.query('UPDATE streams SET last_batch_id = $2 WHERE rtms_stream_id = $1 AND last_batch_id IS DISTINCT FROM $2', [id, batch.batchId]);
        if (fresh.rowCount === 0) return; // applied already: its commit went through, only the answer was lost
      }
      if (batch.transcript?.length) {
        const rows = batch.transcript.map((t) => ({
          user_id: String(t.userId),
          user_name: cleanText(t.userName ?? ''),
          text: cleanText(t.text),
          dedupe_key: transcriptKey(t.timestamp, String(t.userId), cleanText(t.text), t.source ?? 'zoom'),
          ts: t.timestamp,
          start_time: t.startTime ?? null,
          end_time: t.endTime ?? null,
          language: t.language === undefined ? null : String(t.language),
          attribute: attributeText(t.attribute),
          target_language: t.targetLanguage ?? null,
          source: t.source ?? 'zoom',
          words: t.words?.length ? t.words : null,
        }));
        await c.query(
          `INSERT INTO transcript_segments (rtms_stream_id, user_id, user_name, text, ts, start_time, end_time, language, attribute, target_language, source, words, dedupe_key)
           SELECT $1, r.user_id, r.user_name, r.text, r.ts, r.start_time, r.end_time, r.language, r.attribute, r.target_language, r.source, r.words, r.dedupe_key
           FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (user_id text, user_name text, text text, ts bigint, start_time bigint, end_time bigint, language text, attribute text, target_language integer, source text, words jsonb, dedupe_key text)) WITH ORDINALITY AS r(user_id, user_name, text, ts, start_time, end_time, language, attribute, target_language, source, words, dedupe_key, n)
           ORDER BY n
           ON CONFLICT DO NOTHING`,
          [id, JSON.stringify(rows)],
        );
      }
      // Chat is rare: one statement per message, in order, so an edit or a delete applies to what came before it.
      for (const m of batch.chat ?? []) await this.#chatOp(c, id, m);
      if (batch.events?.length) {
        const rows = batch.events.map((e) => {
          const userId = e.userId === undefined || e.userId === null ? null : String(e.userId);
          return { type: e.type, ts: e.timestamp, user_id: userId, user_name: e.userName ?? null, data: e.data ?? null, dedupe_key: eventKey(e.type, e.timestamp, userId, e.data === undefined ? null : JSON.stringify(e.data)) };
        });
        await c.query(
          `INSERT INTO events (rtms_stream_id, type, ts, user_id, user_name, data, dedupe_key)
           SELECT $1, r.type, r.ts, r.user_id, r.user_name, r.data, r.dedupe_key
           FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (type text, ts bigint, user_id text, user_name text, data jsonb, dedupe_key text)) WITH ORDINALITY AS r(type, ts, user_id, user_name, data, dedupe_key, n)
           ORDER BY n
           ON CONFLICT DO NOTHING`,
          [id, JSON.stringify(rows)],
        );
      }
      if (batch.participants?.length) {
        // One row per user (ON CONFLICT cannot touch the same row twice in one statement).
        const merged = new Map<string, { user_id: string; user_name: string; first_seen: number; last_seen: number }>();
        for (const p of batch.participants) {
          const key = String(p.userId);
          const last = p.lastSeen ?? p.firstSeen;
          const name = cleanText(p.userName ?? '');
          const m = merged.get(key);
          if (!m) merged.set(key, { user_id: key, user_name: name, first_seen: p.firstSeen, last_seen: last });
          else {
            m.first_seen = Math.min(m.first_seen, p.firstSeen);
            m.last_seen = Math.max(m.last_seen, last);
            if (name) m.user_name = name;
          }
        }
        await c.query(
          `INSERT INTO participants (rtms_stream_id, user_id, user_name, first_seen, last_seen)
           SELECT $1, r.user_id, r.user_name, r.first_seen, r.last_seen
           FROM jsonb_to_recordset($2::jsonb) AS r(user_id text, user_name text, first_seen bigint, last_seen bigint)
           ON CONFLICT (rtms_stream_id, user_id) DO UPDATE SET
             user_name = CASE WHEN excluded.user_name <> '' THEN excluded.user_name ELSE participants.user_name END,
             first_seen = LEAST(participants.first_seen, excluded.first_seen),
             last_seen = GREATEST(participants.last_seen, excluded.last_seen)`,
          [id, JSON.stringify([...merged.values()])],
        );
      }
      if (batch.statsDelta) await this.#addStats(c, id, batch.statsDelta);
      if (batch.state === 'stopped') await this.#markStopped(c, id, batch.stop ?? { stoppedAt: Date.now() });
      else if (batch.state) await this.#setState(c, id, batch.state);
    });
  }

  /** Applies one chat message or operation (see {@link NewChatMessage}). */
  async #chatOp(c: pg.PoolClient, id: string, m: NewChatMessage): Promise<void> {
    const op = m.operation ?? 'new';
    const insert = (editedAt: number | null) =>
      c.query(
        `INSERT INTO chat_messages (rtms_stream_id, user_id, user_name, text, ts, message_id, parent_message_id, extra, edited_at, dedupe_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10) ON CONFLICT DO NOTHING`,
        [id, String(m.userId), cleanText(m.userName ?? ''), cleanText(m.text), m.timestamp, m.messageId ?? null, m.parentMessageId ?? null, chatExtra(m), editedAt, m.messageId ? null : chatKey(m.timestamp, String(m.userId), cleanText(m.text))],
      );
    if (op === 'new') {
      await insert(null);
      return;
    }
    if (!m.messageId || op === 'unknown') return;
    const row = (await c.query('SELECT text, extra, reactions FROM chat_messages WHERE rtms_stream_id = $1 AND message_id = $2 FOR UPDATE', [id, m.messageId])).rows[0] as Row | undefined;
    if (op === 'update' || op === 'delete') {
      if (m.audit) {
        await c.query('INSERT INTO chat_audit (rtms_stream_id, message_id, operation, user_id, user_name, text, previous_text, ts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING', [
          id, m.messageId, op, String(m.userId), cleanText(m.userName ?? ''), op === 'update' ? cleanText(m.text) : null, row ? String(row.text) : null, m.timestamp,
        ]);
      }
      if (op === 'delete') await c.query('DELETE FROM chat_messages WHERE rtms_stream_id = $1 AND message_id = $2', [id, m.messageId]);
      else if (!row) await insert(m.timestamp); // an edit of a message sent before we joined
      else await c.query('UPDATE chat_messages SET text = $3, edited_at = $4, extra = $5::jsonb WHERE rtms_stream_id = $1 AND message_id = $2', [id, m.messageId, cleanText(m.text), m.timestamp, editedExtra(row.extra, m)]);
      return;
    }
    if (!row) return;
    const reactions = nextReactions(row.reactions, m);
    if (reactions) await c.query('UPDATE chat_messages SET reactions = $3::jsonb WHERE rtms_stream_id = $1 AND message_id = $2', [id, m.messageId, reactions.length ? JSON.stringify(reactions) : null]);
  }

  // ---- reads --------------------------------------------------------------------------------

  static #stream(r: Row): StreamRecord {
    return {
      rtmsStreamId: String(r.rtms_stream_id),
      meetingUuid: String(r.meeting_uuid),
      product: r.product as Product,
      ...(r.operator_id != null ? { operatorId: String(r.operator_id) } : {}),
      state: r.state as StreamState,
      startedAt: Number(r.started_at),
      ...(r.stopped_at != null ? { stoppedAt: Number(r.stopped_at) } : {}),
      ...(r.stop_reason != null ? { stopReason: Number(r.stop_reason) } : {}),
      ...(r.close_reason != null ? { closeReason: String(r.close_reason) } : {}),
      stats: (r.stats ?? {}) as StreamStats,
    };
  }

  async listStreams(options: ListStreamsOptions = {}): Promise<StreamRecord[]> {
    const limit = clampLimit(options.limit, 50, 1000);
    const offset = Math.max(0, Math.floor(options.offset ?? 0));
    const rows = options.state
      ? await this.#q('listStreams', 'SELECT * FROM streams WHERE state = $1 ORDER BY started_at DESC, rtms_stream_id LIMIT $2 OFFSET $3', [options.state, limit, offset])
      : await this.#q('listStreams', 'SELECT * FROM streams ORDER BY started_at DESC, rtms_stream_id LIMIT $1 OFFSET $2', [limit, offset]);
    return rows.map(PostgresStore.#stream);
  }

  async getStream(id: string): Promise<StreamDetail | undefined> {
    const rows = await this.#q('getStream', 'SELECT * FROM streams WHERE rtms_stream_id = $1', [id]);
    if (!rows[0]) return undefined;
    const people = await this.#q('getStream', 'SELECT * FROM participants WHERE rtms_stream_id = $1 ORDER BY first_seen, user_id', [id]);
    return {
      ...PostgresStore.#stream(rows[0]),
      participants: people.map((p) => ({ userId: String(p.user_id), userName: String(p.user_name), firstSeen: Number(p.first_seen), lastSeen: Number(p.last_seen) })),
    };
  }

  async getMeeting(meetingUuid: string): Promise<MeetingRecord | undefined> {
    const r = (await this.#q('getMeeting', 'SELECT * FROM meetings WHERE meeting_uuid = $1', [meetingUuid]))[0];
    return r ? { meetingUuid: String(r.meeting_uuid), product: r.product as Product, createdAt: Number(r.created_at) } : undefined;
  }

  async transcript(id: string, options: TranscriptOptions = {}): Promise<TranscriptSegment[]> {
    const rows =
      options.source !== undefined
        ? await this.#q('transcript', 'SELECT * FROM transcript_segments WHERE rtms_stream_id = $1 AND source = $2 ORDER BY ts, id', [id, options.source])
        : await this.#q('transcript', 'SELECT * FROM transcript_segments WHERE rtms_stream_id = $1 ORDER BY ts, id', [id]);
    return rows.map((r) => ({
      source: String(r.source ?? 'zoom'),
      userId: String(r.user_id),
      userName: String(r.user_name),
      text: String(r.text),
      timestamp: Number(r.ts),
      ...(r.start_time != null ? { startTime: Number(r.start_time) } : {}),
      ...(r.end_time != null ? { endTime: Number(r.end_time) } : {}),
      ...(r.language != null ? { language: String(r.language) } : {}),
      ...(r.attribute != null ? { attribute: JSON.parse(String(r.attribute)) as unknown } : {}),
      ...(r.target_language != null ? { targetLanguage: Number(r.target_language) } : {}),
      ...(r.words != null ? { words: r.words as TranscriptWord[] } : {}),
    }));
  }

  async transcriptSources(id: string): Promise<string[]> {
    const rows = await this.#q('transcriptSources', 'SELECT DISTINCT source FROM transcript_segments WHERE rtms_stream_id = $1', [id]);
    return sortSources(rows.map((r) => String(r.source)));
  }

  async chat(id: string): Promise<ChatRecord[]> {
    const rows = await this.#q('chat', 'SELECT * FROM chat_messages WHERE rtms_stream_id = $1 ORDER BY ts, id', [id]);
    return rows.map((r) => ({ userId: String(r.user_id), userName: String(r.user_name), text: String(r.text), timestamp: Number(r.ts), ...chatRecordExtras(r) }));
  }

  async chatAudit(id: string): Promise<ChatAuditRecord[]> {
    const rows = await this.#q('chatAudit', 'SELECT * FROM chat_audit WHERE rtms_stream_id = $1 ORDER BY ts, id', [id]);
    return rows.map(chatAuditOfRow);
  }

  async events(id: string): Promise<EventRecord[]> {
    const rows = await this.#q('events', 'SELECT * FROM events WHERE rtms_stream_id = $1 ORDER BY ts, id', [id]);
    return rows.map((r) => ({
      type: r.type as TimelineEvent['type'],
      timestamp: Number(r.ts),
      ...(r.user_id != null ? { userId: String(r.user_id) } : {}),
      ...(r.user_name != null ? { userName: String(r.user_name) } : {}),
      ...(r.data != null ? { data: r.data as Record<string, unknown> } : {}),
    }));
  }

  async files(id: string): Promise<RecordingFile[]> {
    const rows = await this.#q('files', 'SELECT * FROM recording_files WHERE rtms_stream_id = $1 ORDER BY path', [id]);
    return rows.map((r) => ({
      path: String(r.path),
      kind: String(r.kind),
      bytes: Number(r.bytes),
      ...(r.duration_ms != null ? { durationMs: Number(r.duration_ms) } : {}),
    }));
  }

  async search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    const parsed = parseSearchQuery(query);
    if (!parsed) return [];
    const limit = clampLimit(options.limit, 20, 500);
    const streamFilter = options.streamId !== undefined ? 'AND rtms_stream_id = $3' : '';
    const params: unknown[] = [toWebsearch(parsed), limit];
    if (options.streamId !== undefined) params.push(options.streamId);
    // ts_headline is costly: rank and limit first, highlight only the rows returned. It also
    // drops anything that looks like an HTML tag, so `<` and `>` pass through it disguised.
    const rows = await this.#q(
      'search',
      `WITH hits AS (
         SELECT 'transcript' AS kind, id, source, rtms_stream_id, user_id, user_name, text, ts, ts_rank_cd(tsv, websearch_to_tsquery('simple', $1), 1) AS score
           FROM transcript_segments WHERE tsv @@ websearch_to_tsquery('simple', $1) ${streamFilter}
         UNION ALL
         SELECT 'chat' AS kind, id, NULL AS source, rtms_stream_id, user_id, user_name, text, ts, ts_rank_cd(tsv, websearch_to_tsquery('simple', $1), 1) AS score
           FROM chat_messages WHERE tsv @@ websearch_to_tsquery('simple', $1) ${streamFilter}
         ORDER BY score DESC, ts, id
         LIMIT $2
       )
       SELECT hits.*, ts_headline('simple', translate(hits.text, '<>', chr(57344) || chr(57345)), websearch_to_tsquery('simple', $1),
           'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=35, MinWords=12, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "') AS snip
         FROM hits ORDER BY score DESC, ts, id`,
      params,
    );
    return rows.map((r) => ({
      rtmsStreamId: String(r.rtms_stream_id),
      kind: r.kind === 'chat' ? ('chat' as const) : ('transcript' as const),
      ...(r.source != null ? { source: String(r.source) } : {}),
      userId: String(r.user_id),
      speaker: String(r.user_name),
      text: String(r.text),
      timestamp: Number(r.ts),
      snippet: markersToHtml(String(r.snip).replace(/[\uE000\uE001]/g, (c) => (c === '\uE000' ? '<' : '>'))),
      score: Number(r.score),
    }));
  }

  async saveSummary(record: SummaryRecord): Promise<void> {
    const cols = SUMMARY_COLUMNS.join(', ');
    const values = SUMMARY_COLUMNS.map((c, i) => (c === 'summary' ? `$${i + 1}::jsonb` : `$${i + 1}`)).join(', ');
    const updates = SUMMARY_COLUMNS.slice(1).map((c) => `${c} = EXCLUDED.${c}`).join(', ');
    await this.#q('saveSummary', `INSERT INTO stream_summaries (${cols}) VALUES (${values}) ON CONFLICT (rtms_stream_id) DO UPDATE SET ${updates}`, summaryValues(record));
  }

  async summary(id: string): Promise<SummaryRecord | undefined> {
    const row = (await this.#q('summary', 'SELECT * FROM stream_summaries WHERE rtms_stream_id = $1', [id]))[0];
    return row ? summaryOfRow(row) : undefined;
  }

  // ---- deletion and leases -----------------------------------------------------------------

  async #rows(c: Db, id: string): Promise<StreamRows | undefined> {
    const counts = [`(SELECT COUNT(*) FROM streams WHERE rtms_stream_id = $1) AS streams`, ...STREAM_TABLES.map((t) => `(SELECT COUNT(*) FROM ${t.table} WHERE rtms_stream_id = $1) AS ${t.count}`)];
    counts.push(`(SELECT COUNT(*) FROM meetings m WHERE m.meeting_uuid IN (SELECT meeting_uuid FROM streams WHERE rtms_stream_id = $1)
      AND NOT EXISTS (SELECT 1 FROM streams o WHERE o.meeting_uuid = m.meeting_uuid AND o.rtms_stream_id <> $1)) AS meetings`);
    const r = (await c.query(`SELECT ${counts.join(', ')}`, [id])).rows[0] as Row;
    const rows = emptyRows();
    // Unquoted aliases come back lower-cased.
    for (const k of Object.keys(rows) as (keyof StreamRows)[]) rows[k] = Number(r[k.toLowerCase()] ?? 0);
    if (rows.streams === 0 && STREAM_TABLES.every((t) => rows[t.count] === 0)) return undefined;
    return rows;
  }

  async streamRows(id: string): Promise<StreamRows | undefined> {
    try {
      return await this.#rows(this.#db, id);
    } catch (err) {
      throw wrap(err, 'streamRows');
    }
  }

  deleteStream(id: string): Promise<StreamRows | undefined> {
    return this.#tx('deleteStream', async (c) => {
      // Locks the stream row first: a batch being written for it finishes before, or waits and then re-creates nothing it should not.
      const stream = (await c.query('SELECT meeting_uuid FROM streams WHERE rtms_stream_id = $1 FOR UPDATE', [id])).rows[0] as Row | undefined;
      const rows = await this.#rows(c, id);
      if (!rows) return undefined;
      for (const t of STREAM_TABLES) await c.query(`DELETE FROM ${t.table} WHERE rtms_stream_id = $1`, [id]);
      await c.query('DELETE FROM streams WHERE rtms_stream_id = $1', [id]);
      if (stream) await c.query('DELETE FROM meetings WHERE meeting_uuid = $1 AND NOT EXISTS (SELECT 1 FROM streams WHERE meeting_uuid = $1)', [stream.meeting_uuid]);
      return rows;
    });
  }

  async acquireLease(name: string, holder: string, ttlMs: number, now = Date.now()): Promise<{ acquired: boolean; lastDone?: number }> {
    const rows = await this.#q(
      'acquireLease',
      `WITH taken AS (
         INSERT INTO maintenance_leases AS l (name, holder, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE l.holder IS NULL OR l.holder = excluded.holder OR l.expires_at <= $4
         RETURNING last_done)
       SELECT true AS acquired, last_done FROM taken
       UNION ALL SELECT false, last_done FROM maintenance_leases WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM taken)`,
      [name, holder, now + ttlMs, now],
    );
    const r = rows[0];
    return { acquired: r?.acquired === true, ...(r?.last_done != null ? { lastDone: Number(r.last_done) } : {}) };
  }

  async releaseLease(name: string, holder: string, doneAt?: number): Promise<void> {
    await this.#q('releaseLease', 'UPDATE maintenance_leases SET holder = NULL, expires_at = 0, last_done = COALESCE($3, last_done) WHERE name = $1 AND holder = $2', [name, holder, doneAt ?? null]);
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool) await pool.end().catch(() => {});
  }
}
