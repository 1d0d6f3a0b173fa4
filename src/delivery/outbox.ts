/**
 * The durable outbox of webhook destinations: one SQLite file (WAL) per process under the data
 * dir, rows keyed by destination. An event is inserted before `deliver()` returns, so a restart or
 * a SIGKILL loses nothing: pending rows are picked up again when the destination starts. Delivered
 * rows are kept (marked) for a while so that an event re-sent with the same id is not sent twice.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type OutboxState = 'pending' | 'delivered' | 'dead';

export interface OutboxRow {
  seq: number;
  destination: string;
  eventId: string;
  streamId: string;
  eventType: string;
  /** The envelope's JSON, exactly as POSTed. */
  body: string;
  /** The event's createdAt (ms). */
  createdAt: number;
  /** When this row entered the outbox (ms); the start of `lag`. */
  enqueuedAt: number;
  /** Start of the current retry window (enqueue, or the last replay): maxAge counts from here. */
  since: number;
  attempts: number;
  nextAt: number;
  state: OutboxState;
  lastError: string | null;
}

const COLUMNS = 'seq, destination, event_id AS eventId, stream_id AS streamId, event_type AS eventType, body, created_at AS createdAt, enqueued_at AS enqueuedAt, since, attempts, next_at AS nextAt, state, last_error AS lastError';

export class Outbox {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #due: Database.Statement;
  readonly #delivered: Database.Statement;
  readonly #retry: Database.Statement;
  readonly #dead: Database.Statement;
  readonly #counts: Database.Statement;
  readonly #oldest: Database.Statement;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a committed row survives the process being killed (only an OS crash may lose the last ones).
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      destination TEXT NOT NULL,
      event_id TEXT NOT NULL,
      stream_id TEXT NOT NULL,
      event_type TEXT NOT NULL,
      body TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      enqueued_at INTEGER NOT NULL,
      since INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_at INTEGER NOT NULL,
      state TEXT NOT NULL DEFAULT 'pending',
      last_error TEXT,
      UNIQUE (destination, event_id)
    );
    CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (destination, state, stream_id, seq);`);
    this.#insert = this.#db.prepare('INSERT OR IGNORE INTO outbox (destination, event_id, stream_id, event_type, body, created_at, enqueued_at, since, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    // The head (oldest pending row) of each stream, when it is due: per-stream order by construction.
    this.#due = this.#db.prepare(`SELECT ${COLUMNS} FROM outbox o WHERE destination = ? AND state = 'pending' AND next_at <= ?
      AND seq = (SELECT MIN(seq) FROM outbox i WHERE i.destination = o.destination AND i.stream_id = o.stream_id AND i.state = 'pending')
      ORDER BY seq LIMIT ?`);
    this.#delivered = this.#db.prepare("UPDATE outbox SET state = 'delivered', attempts = attempts + 1, next_at = ?, last_error = NULL WHERE seq = ?");
    this.#retry = this.#db.prepare('UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE seq = ?');
    this.#dead = this.#db.prepare("UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ? WHERE seq = ?");
    this.#counts = this.#db.prepare('SELECT state, COUNT(*) AS n FROM outbox WHERE destination = ? GROUP BY state');
    this.#oldest = this.#db.prepare("SELECT MIN(enqueued_at) AS t FROM outbox WHERE destination = ? AND state = 'pending'");
  }

  /** Inserts one event; false when this destination already has it (same id: a re-sent event). */
  add(row: Pick<OutboxRow, 'destination' | 'eventId' | 'streamId' | 'eventType' | 'body' | 'createdAt'>, now = Date.now()): boolean {
    return this.#insert.run(row.destination, row.eventId, row.streamId, row.eventType, row.body, row.createdAt, now, now, now).changes > 0;
  }

  /** Due heads of streams, oldest first, skipping streams in `busy`. */
  due(destination: string, now: number, limit: number, busy: ReadonlySet<string>): OutboxRow[] {
    const rows = this.#due.all(destination, now, limit + busy.size) as OutboxRow[];
    return rows.filter((r) => !busy.has(r.streamId)).slice(0, limit);
  }

  markDelivered(seq: number, now = Date.now()): void {
    this.#delivered.run(now, seq);
  }

  markRetry(seq: number, nextAt: number, error: string): void {
    this.#retry.run(nextAt, error, seq);
  }

  markDead(seq: number, error: string): void {
    this.#dead.run(error, seq);
  }

  counts(destination: string): Record<OutboxState, number> {
    const out: Record<OutboxState, number> = { pending: 0, delivered: 0, dead: 0 };
    for (const r of this.#counts.all(destination) as { state: OutboxState; n: number }[]) out[r.state] = r.n;
    return out;
  }

  /** Enqueue time of the oldest pending row, or undefined. */
  oldestPending(destination: string): number | undefined {
    const r = this.#oldest.get(destination) as { t: number | null };
    return r.t ?? undefined;
  }

  deadLetters(destination: string, limit = 100): OutboxRow[] {
    return this.#db.prepare(`SELECT ${COLUMNS} FROM outbox WHERE destination = ? AND state = 'dead' ORDER BY seq LIMIT ?`).all(destination, limit) as OutboxRow[];
  }

  /** Puts dead letters back in the queue with a fresh retry window; all of them when `ids` is absent. */
  replay(destination: string, ids?: readonly string[], now = Date.now()): number {
    if (ids) {
      const st = this.#db.prepare("UPDATE outbox SET state = 'pending', since = ?, next_at = ?, attempts = 0 WHERE destination = ? AND state = 'dead' AND event_id = ?");
      return this.#db.transaction(() => ids.reduce((n, id) => n + st.run(now, now, destination, id).changes, 0))();
    }
    return this.#db.prepare("UPDATE outbox SET state = 'pending', since = ?, next_at = ?, attempts = 0 WHERE destination = ? AND state = 'dead'").run(now, now, destination).changes;
  }

  /** Forgets a destination's rows delivered before `before` (their ids no longer need deduplicating). */
  prune(destination: string, before: number): number {
    return this.#db.prepare("DELETE FROM outbox WHERE destination = ? AND state = 'delivered' AND next_at < ?").run(destination, before).changes;
  }

  /** Rows of one stream, every destination and state (pending ones would deliver a deleted meeting). */
  countStream(streamId: string): number {
    return Number((this.#db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE stream_id = ?').get(streamId) as { n: number }).n);
  }

  /** Forgets every row of one stream: its events are never sent, and their bodies (transcript, chat) are gone. */
  deleteStream(streamId: string): number {
    return this.#db.prepare('DELETE FROM outbox WHERE stream_id = ?').run(streamId).changes;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
