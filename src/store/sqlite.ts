/**
 * The embedded store: one SQLite file (WAL mode) through better-sqlite3, with an FTS5 index over
 * transcript segments and chat messages. better-sqlite3 is synchronous; the store keeps every
 * call short (batched writes, indexed reads) and exposes the same async API as PostgreSQL.
 *
 * `write()` is a group commit: the batches of every stream that arrive within `groupCommitMs` of the
 * last commit go into one transaction (a commit writes the WAL, and one per stream per flush was the
 * store's main cost with hundreds of streams). A batch that fails is retried alone, so one bad batch
 * never fails the others.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { Product } from '../protocol/index.js';
import type { TimelineEvent } from '../pipeline/types.js';
import { SQLITE_MIGRATIONS, type Migration } from './migrations.js';
import { clampLimit, cleanText, markersToHtml, parseSearchQuery, toFts5 } from './query.js';
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

export interface SqliteStoreOptions {
  /** Database file, or `:memory:`. */
  path: string;
  /** Open read-only and fail if the file is missing (the `search` command). Default false. */
  readonly?: boolean;
  /** Milliseconds to wait for a lock held by another process. Default 5000. */
  busyTimeoutMs?: number;
  /** Migrations to apply (tests). Default: the shipped list. */
  migrations?: Migration[];
  /** Shortest time between two commits of `write()` batches; batches meanwhile share one. Default 10 ms. */
  groupCommitMs?: number;
}

interface QueuedWrite {
  batch: WriteBatch;
  resolve: () => void;
  reject: (err: StoreError) => void;
}

type Row = Record<string, unknown>;

const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
const str = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));

/** Wraps a driver error; StoreErrors pass through. */
function wrap(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as { code?: string; message?: string };
  return new StoreError('STORE_UNAVAILABLE', `SQLite ${what} failed: ${e?.message ?? String(err)}`, { sqliteCode: e?.code }, { cause: err });
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  #db: Database.Database | undefined;
  readonly #migrations: Migration[];
  readonly #stmts = new Map<string, Database.Statement>();
  readonly #groupCommitMs: number;
  #queue: QueuedWrite[] = [];
  #commitScheduled = false;
  #lastCommit = -Infinity;

  constructor(options: SqliteStoreOptions) {
    this.location = options.path;
    this.#migrations = options.migrations ?? SQLITE_MIGRATIONS;
    this.#groupCommitMs = Math.max(0, options.groupCommitMs ?? 10);
    try {
      if (options.path !== ':memory:' && !options.readonly) mkdirSync(dirname(options.path), { recursive: true });
      const db = new Database(options.path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      if (!options.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      db.pragma('foreign_keys = ON');
      this.#db = db;
    } catch (err) {
      const e = err as { code?: string };
      if (options.readonly && (e?.code === 'SQLITE_CANTOPEN' || /does not exist/i.test(String((err as Error)?.message)))) {
        throw new StoreError('STORE_NOT_FOUND', `no database at ${options.path}; record a stream first (openrtms demo) or pass --data-dir`, { path: options.path }, { cause: err });
      }
      throw wrap(err, `open of ${options.path}`);
    }
  }

  get #open(): Database.Database {
    if (!this.#db) throw new StoreError('STORE_CLOSED', 'the store is closed');
    return this.#db;
  }

  #stmt(sql: string): Database.Statement {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.#open.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  /** Runs fn synchronously, turning driver errors into StoreErrors. */
  #run<T>(what: string, fn: (db: Database.Database) => T): Promise<T> {
    try {
      return Promise.resolve(fn(this.#open));
    } catch (err) {
      return Promise.reject(wrap(err, what));
    }
  }

  async migrate(): Promise<number> {
    const db = this.#open;
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
    let applied = 0;
    for (const m of [...this.#migrations].sort((a, b) => a.version - b.version)) {
      const apply = db.transaction(() => {
        // Re-checked inside the (immediate) transaction: another process may have applied it.
        if (db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version)) return false;
        for (const sql of m.up) db.exec(sql);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
        return true;
      });
      try {
        if (apply.immediate()) {
          applied++;
          // Each migration's pages leave the write-ahead log at once: a new database's WAL would
          // otherwise hold every migration (it is only checkpointed at 1000 pages), doubling its size on disk.
          try {
            db.pragma('wal_checkpoint(TRUNCATE)');
          } catch {
            // Another connection reading: the WAL is checkpointed later as usual.
          }
        }
      } catch (err) {
        throw new StoreError('STORE_MIGRATION_FAILED', `SQLite migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { version: m.version }, { cause: err });
      }
    }
    return applied;
  }

  schemaVersion(): Promise<number> {
    return this.#run('schemaVersion', (db) => {
      const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).get();
      if (!exists) return 0;
      return Number((db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as Row).v ?? 0);
    });
  }

  // ---- writes -------------------------------------------------------------------------------

  #ensureStream(s: StreamStart, state: StreamState = 'starting'): void {
    this.#stmt('INSERT INTO meetings (meeting_uuid, product, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(s.meetingUuid, s.product, Date.now());
    this.#stmt(
      `INSERT INTO streams (rtms_stream_id, meeting_uuid, product, operator_id, state, started_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(s.rtmsStreamId, s.meetingUuid, s.product, s.operatorId ?? null, state, s.startedAt);
  }

  #setState(id: string, state: StreamState): void {
    this.#stmt(`UPDATE streams SET state = ? WHERE rtms_stream_id = ? AND state <> 'stopped'`).run(state, id);
  }

  #markStopped(id: string, stop: StreamStop): void {
    this.#stmt(
      `UPDATE streams SET state = 'stopped', stopped_at = COALESCE(stopped_at, ?),
         stop_reason = COALESCE(stop_reason, ?), close_reason = COALESCE(close_reason, ?)
       WHERE rtms_stream_id = ?`,
    ).run(stop.stoppedAt, stop.stopReason ?? null, stop.closeReason ?? null, id);
  }

  #addStats(id: string, delta: StreamStats): void {
    const keys = Object.keys(delta);
    if (!keys.length) return;
    const row = this.#stmt('SELECT stats FROM streams WHERE rtms_stream_id = ?').get(id) as Row | undefined;
    if (!row) return;
    const stats = JSON.parse(String(row.stats)) as Record<string, unknown>;
    for (const k of keys) stats[k] = (typeof stats[k] === 'number' ? (stats[k] as number) : 0) + delta[k];
    this.#stmt('UPDATE streams SET stats = ? WHERE rtms_stream_id = ?').run(JSON.stringify(stats), id);
  }

  upsertStream(s: StreamUpsert): Promise<void> {
    return this.#run('upsertStream', (db) =>
      db
        .transaction(() => {
          this.#stmt('INSERT INTO meetings (meeting_uuid, product, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(s.meetingUuid, s.product, Date.now());
          this.#stmt(
            `INSERT INTO streams (rtms_stream_id, meeting_uuid, product, operator_id, state, started_at)
             VALUES (@id, @meeting, @product, @operator, COALESCE(@state, 'starting'), @startedAt)
             ON CONFLICT (rtms_stream_id) DO UPDATE SET
               meeting_uuid = excluded.meeting_uuid,
               product = excluded.product,
               operator_id = COALESCE(excluded.operator_id, streams.operator_id),
               started_at = MIN(streams.started_at, excluded.started_at),
               state = CASE WHEN streams.state = 'stopped' OR @state IS NULL THEN streams.state ELSE @state END`,
          ).run({ id: s.rtmsStreamId, meeting: s.meetingUuid, product: s.product, operator: s.operatorId ?? null, state: s.state ?? null, startedAt: s.startedAt });
          if (s.state === 'stopped') this.#markStopped(s.rtmsStreamId, { stoppedAt: Date.now() });
        })
        .immediate(),
    );
  }

  setStreamState(id: string, state: Exclude<StreamState, 'stopped'>): Promise<void> {
    return this.#run('setStreamState', () => this.#setState(id, state));
  }

  markStopped(id: string, stop: StreamStop): Promise<void> {
    return this.#run('markStopped', () => this.#markStopped(id, stop));
  }

  addStats(id: string, delta: StreamStats): Promise<void> {
    return this.#run('addStats', (db) => db.transaction(() => this.#addStats(id, delta)).immediate());
  }

  upsertFiles(id: string, files: RecordingFile[]): Promise<void> {
    return this.#run('upsertFiles', (db) =>
      db
        .transaction(() => {
          const st = this.#stmt(
            `INSERT INTO recording_files (rtms_stream_id, path, kind, bytes, duration_ms) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (rtms_stream_id, path) DO UPDATE SET kind = excluded.kind, bytes = excluded.bytes, duration_ms = excluded.duration_ms`,
          );
          for (const f of files) st.run(id, f.path, f.kind, f.bytes, f.durationMs ?? null);
        })
        .immediate(),
    );
  }

  write(batch: WriteBatch): Promise<void> {
    if (!this.#db) return Promise.reject(new StoreError('STORE_CLOSED', 'the store is closed'));
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ batch, resolve, reject });
      if (this.#commitScheduled) return;
      this.#commitScheduled = true;
      const wait = this.#lastCommit + this.#groupCommitMs - performance.now();
      if (wait > 0) setTimeout(() => this.#commit(), wait);
      else setImmediate(() => this.#commit());
    });
  }

  /** Commits every queued batch in one transaction; if that fails, each batch alone. */
  #commit(): void {
    this.#commitScheduled = false;
    const group = this.#queue;
    this.#queue = [];
    this.#lastCommit = performance.now();
    if (!group.length) return;
    const db = this.#db;
    if (!db) {
      for (const w of group) w.reject(new StoreError('STORE_CLOSED', 'the store is closed'));
      return;
    }
    try {
      db.transaction(() => {
        for (const w of group) this.#writeBatch(w.batch);
      }).immediate();
      for (const w of group) w.resolve();
      return;
    } catch (err) {
      if (group.length === 1) return group[0].reject(wrap(err, 'write'));
    }
    for (const w of group) {
      try {
        db.transaction(() => this.#writeBatch(w.batch)).immediate();
        w.resolve();
      } catch (err) {
        w.reject(wrap(err, 'write'));
      }
    }
  }

  #writeBatch(batch: WriteBatch): void {
    const id = batch.stream.rtmsStreamId;
    this.#ensureStream(batch.stream);
    if (batch.transcript?.length) {
      const st = this.#stmt(
        `INSERT INTO transcript_segments (rtms_stream_id, user_id, user_name, text, ts, start_time, end_time, language, attribute, target_language, source, words, dedupe_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      );
      for (const t of batch.transcript) {
        const userId = String(t.userId);
        const text = cleanText(t.text);
        const source = t.source ?? 'zoom';
        st.run(id, userId, cleanText(t.userName ?? ''), text, t.timestamp, t.startTime ?? null, t.endTime ?? null, t.language === undefined ? null : String(t.language), attributeText(t.attribute), t.targetLanguage ?? null, source, t.words?.length ? JSON.stringify(t.words) : null, transcriptKey(t.timestamp, userId, text, source));
      }
    }
    // In order: an edit or a delete applies to what the messages before it made.
    for (const c of batch.chat ?? []) this.#chatOp(id, c);
    if (batch.events?.length) {
      const st = this.#stmt('INSERT INTO events (rtms_stream_id, type, ts, user_id, user_name, data, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
      for (const e of batch.events) {
        const userId = e.userId === undefined || e.userId === null ? null : String(e.userId);
        const data = e.data === undefined ? null : JSON.stringify(e.data);
        st.run(id, e.type, e.timestamp, userId, e.userName ?? null, data, eventKey(e.type, e.timestamp, userId, data));
      }
    }
    if (batch.participants?.length) {
      const st = this.#stmt(
        `INSERT INTO participants (rtms_stream_id, user_id, user_name, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (rtms_stream_id, user_id) DO UPDATE SET
           user_name = CASE WHEN excluded.user_name <> '' THEN excluded.user_name ELSE participants.user_name END,
           first_seen = MIN(participants.first_seen, excluded.first_seen),
           last_seen = MAX(participants.last_seen, excluded.last_seen)`,
      );
      for (const p of batch.participants) st.run(id, String(p.userId), cleanText(p.userName ?? ''), p.firstSeen, p.lastSeen ?? p.firstSeen);
    }
    if (batch.statsDelta) this.#addStats(id, batch.statsDelta);
    if (batch.state === 'stopped') this.#markStopped(id, batch.stop ?? { stoppedAt: Date.now() });
    else if (batch.state) this.#setState(id, batch.state);
  }

  /** Applies one chat message or operation (see {@link NewChatMessage}). */
  #chatOp(id: string, c: NewChatMessage): void {
    const op = c.operation ?? 'new';
    const insert = (editedAt: number | null) =>
      this.#stmt(
        `INSERT INTO chat_messages (rtms_stream_id, user_id, user_name, text, ts, message_id, parent_message_id, extra, edited_at, dedupe_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ).run(id, String(c.userId), cleanText(c.userName ?? ''), cleanText(c.text), c.timestamp, c.messageId ?? null, c.parentMessageId ?? null, chatExtra(c), editedAt, c.messageId ? null : chatKey(c.timestamp, String(c.userId), cleanText(c.text)));
    if (op === 'new') {
      insert(null);
      return;
    }
    if (!c.messageId || op === 'unknown') return;
    const row = this.#stmt('SELECT text, extra, reactions FROM chat_messages WHERE rtms_stream_id = ? AND message_id = ?').get(id, c.messageId) as Row | undefined;
    if (op === 'update' || op === 'delete') {
      if (c.audit) {
        this.#stmt('INSERT INTO chat_audit (rtms_stream_id, message_id, operation, user_id, user_name, text, previous_text, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING').run(
          id, c.messageId, op, String(c.userId), cleanText(c.userName ?? ''), op === 'update' ? cleanText(c.text) : null, row ? String(row.text) : null, c.timestamp,
        );
      }
      if (op === 'delete') this.#stmt('DELETE FROM chat_messages WHERE rtms_stream_id = ? AND message_id = ?').run(id, c.messageId);
      else if (!row) insert(c.timestamp); // an edit of a message sent before we joined: its final text is all there is
      else this.#stmt('UPDATE chat_messages SET text = ?, edited_at = ?, extra = ? WHERE rtms_stream_id = ? AND message_id = ?').run(cleanText(c.text), c.timestamp, editedExtra(row.extra, c), id, c.messageId);
      return;
    }
    if (!row) return; // a reaction to a message this store never had
    const reactions = nextReactions(row.reactions, c);
    if (reactions) this.#stmt('UPDATE chat_messages SET reactions = ? WHERE rtms_stream_id = ? AND message_id = ?').run(reactions.length ? JSON.stringify(reactions) : null, id, c.messageId);
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
      stats: JSON.parse(String(r.stats ?? '{}')) as StreamStats,
    };
  }

  listStreams(options: ListStreamsOptions = {}): Promise<StreamRecord[]> {
    return this.#run('listStreams', () => {
      const limit = clampLimit(options.limit, 50, 1000);
      const offset = Math.max(0, Math.floor(options.offset ?? 0));
      const rows = (
        options.state
          ? this.#stmt('SELECT * FROM streams WHERE state = ? ORDER BY started_at DESC, rtms_stream_id LIMIT ? OFFSET ?').all(options.state, limit, offset)
          : this.#stmt('SELECT * FROM streams ORDER BY started_at DESC, rtms_stream_id LIMIT ? OFFSET ?').all(limit, offset)
      ) as Row[];
      return rows.map(SqliteStore.#stream);
    });
  }

  getStream(id: string): Promise<StreamDetail | undefined> {
    return this.#run('getStream', () => {
      const row = this.#stmt('SELECT * FROM streams WHERE rtms_stream_id = ?').get(id) as Row | undefined;
      if (!row) return undefined;
      const participants = (this.#stmt('SELECT * FROM participants WHERE rtms_stream_id = ? ORDER BY first_seen, user_id').all(id) as Row[]).map((p) => ({
        userId: String(p.user_id),
        userName: String(p.user_name),
        firstSeen: Number(p.first_seen),
        lastSeen: Number(p.last_seen),
      }));
      return { ...SqliteStore.#stream(row), participants };
    });
  }

  getMeeting(meetingUuid: string): Promise<MeetingRecord | undefined> {
    return this.#run('getMeeting', () => {
      const r = this.#stmt('SELECT * FROM meetings WHERE meeting_uuid = ?').get(meetingUuid) as Row | undefined;
      return r ? { meetingUuid: String(r.meeting_uuid), product: r.product as Product, createdAt: Number(r.created_at) } : undefined;
    });
  }

  transcript(id: string, options: TranscriptOptions = {}): Promise<TranscriptSegment[]> {
    return this.#run('transcript', () =>
      (
        (options.source !== undefined
          ? this.#stmt('SELECT * FROM transcript_segments WHERE rtms_stream_id = ? AND source = ? ORDER BY ts, id').all(id, options.source)
          : this.#stmt('SELECT * FROM transcript_segments WHERE rtms_stream_id = ? ORDER BY ts, id').all(id)) as Row[]
      ).map((r) => ({
        source: String(r.source ?? 'zoom'),
        userId: String(r.user_id),
        userName: String(r.user_name),
        text: String(r.text),
        timestamp: Number(r.ts),
        ...(r.start_time != null ? { startTime: num(r.start_time) } : {}),
        ...(r.end_time != null ? { endTime: num(r.end_time) } : {}),
        ...(r.language != null ? { language: str(r.language) } : {}),
        ...(r.attribute != null ? { attribute: JSON.parse(String(r.attribute)) as unknown } : {}),
        ...(r.target_language != null ? { targetLanguage: Number(r.target_language) } : {}),
        ...(r.words != null ? { words: JSON.parse(String(r.words)) as TranscriptWord[] } : {}),
      })),
    );
  }

  transcriptSources(id: string): Promise<string[]> {
    return this.#run('transcriptSources', () =>
      sortSources((this.#stmt('SELECT DISTINCT source FROM transcript_segments WHERE rtms_stream_id = ?').all(id) as Row[]).map((r) => String(r.source))),
    );
  }

  chat(id: string): Promise<ChatRecord[]> {
    return this.#run('chat', () =>
      (this.#stmt('SELECT * FROM chat_messages WHERE rtms_stream_id = ? ORDER BY ts, id').all(id) as Row[]).map((r) => ({
        userId: String(r.user_id),
        userName: String(r.user_name),
        text: String(r.text),
        timestamp: Number(r.ts),
        ...chatRecordExtras(r),
      })),
    );
  }

  chatAudit(id: string): Promise<ChatAuditRecord[]> {
    return this.#run('chatAudit', () =>
      (this.#stmt('SELECT * FROM chat_audit WHERE rtms_stream_id = ? ORDER BY ts, id').all(id) as Row[]).map(chatAuditOfRow),
    );
  }

  events(id: string): Promise<EventRecord[]> {
    return this.#run('events', () =>
      (this.#stmt('SELECT * FROM events WHERE rtms_stream_id = ? ORDER BY ts, id').all(id) as Row[]).map((r) => ({
        type: r.type as TimelineEvent['type'],
        timestamp: Number(r.ts),
        ...(r.user_id != null ? { userId: String(r.user_id) } : {}),
        ...(r.user_name != null ? { userName: String(r.user_name) } : {}),
        ...(r.data != null ? { data: JSON.parse(String(r.data)) as Record<string, unknown> } : {}),
      })),
    );
  }

  files(id: string): Promise<RecordingFile[]> {
    return this.#run('files', () =>
      (this.#stmt('SELECT * FROM recording_files WHERE rtms_stream_id = ? ORDER BY path').all(id) as Row[]).map((r) => ({
        path: String(r.path),
        kind: String(r.kind),
        bytes: Number(r.bytes),
        ...(r.duration_ms != null ? { durationMs: Number(r.duration_ms) } : {}),
      })),
    );
  }

  search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    return this.#run('search', () => {
      const parsed = parseSearchQuery(query);
      if (!parsed) return [];
      const limit = clampLimit(options.limit, 20, 500);
      const select = `SELECT rowid AS rid, rtms_stream_id, user_id, user_name, ts, text,
          snippet(search_index, 0, char(2), char(3), '…', 24) AS snip, bm25(search_index) AS score,
          CASE WHEN rowid % 2 = 0 THEN (SELECT source FROM transcript_segments WHERE id = search_index.rowid / 2) END AS source
        FROM search_index WHERE search_index MATCH ?`;
      const match = toFts5(parsed);
      const rows = (
        options.streamId !== undefined
          ? this.#stmt(`${select} AND rtms_stream_id = ? ORDER BY score, ts LIMIT ?`).all(match, options.streamId, limit)
          : this.#stmt(`${select} ORDER BY score, ts LIMIT ?`).all(match, limit)
      ) as Row[];
      return rows.map((r) => ({
        rtmsStreamId: String(r.rtms_stream_id),
        kind: Number(r.rid) % 2 === 1 ? ('chat' as const) : ('transcript' as const),
        ...(r.source != null ? { source: String(r.source) } : {}),
        userId: String(r.user_id),
        speaker: String(r.user_name),
        text: String(r.text),
        timestamp: Number(r.ts),
        snippet: markersToHtml(String(r.snip)),
        score: -Number(r.score),
      }));
    });
  }

  saveSummary(record: SummaryRecord): Promise<void> {
    return this.#run('saveSummary', () => {
      this.#stmt(`INSERT OR REPLACE INTO stream_summaries (${SUMMARY_COLUMNS.join(', ')}) VALUES (${SUMMARY_COLUMNS.map(() => '?').join(', ')})`).run(...summaryValues(record));
    });
  }

  summary(id: string): Promise<SummaryRecord | undefined> {
    return this.#run('summary', () => {
      const row = this.#stmt('SELECT * FROM stream_summaries WHERE rtms_stream_id = ?').get(id) as Row | undefined;
      return row ? summaryOfRow(row) : undefined;
    });
  }

  // ---- deletion and leases -----------------------------------------------------------------

  #rows(id: string): StreamRows | undefined {
    const rows = emptyRows();
    rows.streams = Number((this.#stmt('SELECT COUNT(*) AS n FROM streams WHERE rtms_stream_id = ?').get(id) as Row).n);
    for (const t of STREAM_TABLES) rows[t.count] = Number((this.#stmt(`SELECT COUNT(*) AS n FROM ${t.table} WHERE rtms_stream_id = ?`).get(id) as Row).n);
    if (rows.streams === 0 && STREAM_TABLES.every((t) => rows[t.count] === 0)) return undefined;
    rows.meetings = Number(
      (this.#stmt('SELECT COUNT(*) AS n FROM meetings m WHERE m.meeting_uuid IN (SELECT meeting_uuid FROM streams WHERE rtms_stream_id = ?) AND NOT EXISTS (SELECT 1 FROM streams o WHERE o.meeting_uuid = m.meeting_uuid AND o.rtms_stream_id <> ?)').get(id, id) as Row).n,
    );
    return rows;
  }

  streamRows(id: string): Promise<StreamRows | undefined> {
    return this.#run('streamRows', () => this.#rows(id));
  }

  deleteStream(id: string): Promise<StreamRows | undefined> {
    // Batches still queued for the group commit would re-create the stream: committed first, then deleted.
    if (this.#queue.length) this.#commit();
    return this.#run('deleteStream', (db) =>
      db
        .transaction(() => {
          const rows = this.#rows(id);
          if (!rows) return undefined;
          const meeting = (this.#stmt('SELECT meeting_uuid FROM streams WHERE rtms_stream_id = ?').get(id) as Row | undefined)?.meeting_uuid;
          for (const t of STREAM_TABLES) this.#stmt(`DELETE FROM ${t.table} WHERE rtms_stream_id = ?`).run(id);
          this.#stmt('DELETE FROM streams WHERE rtms_stream_id = ?').run(id);
          if (meeting != null) this.#stmt('DELETE FROM meetings WHERE meeting_uuid = ? AND NOT EXISTS (SELECT 1 FROM streams WHERE meeting_uuid = ?)').run(meeting, meeting);
          return rows;
        })
        .immediate(),
    );
  }

  acquireLease(name: string, holder: string, ttlMs: number, now = Date.now()): Promise<{ acquired: boolean; lastDone?: number }> {
    return this.#run('acquireLease', (db) =>
      db
        .transaction(() => {
          const row = this.#stmt(
            `INSERT INTO maintenance_leases (name, holder, expires_at) VALUES (?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE maintenance_leases.holder IS NULL OR maintenance_leases.holder = excluded.holder OR maintenance_leases.expires_at <= ?
             RETURNING holder, last_done`,
          ).get(name, holder, now + ttlMs, now) as Row | undefined;
          const lastDone = num((row ?? (this.#stmt('SELECT last_done FROM maintenance_leases WHERE name = ?').get(name) as Row | undefined))?.last_done);
          return { acquired: row !== undefined, ...(lastDone !== undefined ? { lastDone } : {}) };
        })
        .immediate(),
    );
  }

  releaseLease(name: string, holder: string, doneAt?: number): Promise<void> {
    return this.#run('releaseLease', () => {
      this.#stmt('UPDATE maintenance_leases SET holder = NULL, expires_at = 0, last_done = COALESCE(?, last_done) WHERE name = ? AND holder = ?').run(doneAt ?? null, name, holder);
    });
  }

  close(): Promise<void> {
    if (this.#queue.length) this.#commit(); // writes already accepted are committed, not dropped
    const db = this.#db;
    this.#db = undefined;
    this.#stmts.clear();
    if (db?.open) {
      try {
        db.close();
      } catch {
        // Closing twice or closing a broken handle has nothing left to release.
      }
    }
    return Promise.resolve();
  }
}
