/**
 * Natural keys of stored rows: what makes a transcript segment, a chat message or an event the same
 * one when a batch is written twice. A cluster takeover replays a stream's last batches through a new
 * StoreSink, whose batch ids are its own, so the store cannot recognise a batch by its id: it
 * recognises each row instead (a unique index over `(rtms_stream_id, dedupe_key)`, inserts with
 * `ON CONFLICT DO NOTHING`). Pure; the same keys for SQLite and PostgreSQL.
 */
import { createHash } from 'node:crypto';

function digest(parts: readonly (string | number | null | undefined)[]): string {
  const h = createHash('sha256');
  // NUL between the parts: no text can move a boundary (stored text never holds control characters).
  for (const p of parts) h.update(p === null || p === undefined ? '\u0001' : String(p)).update('\u0000');
  return h.digest('base64url').slice(0, 32);
}

/** A transcript segment: same stream (the index's first column), track, timestamp, speaker and text. */
export function transcriptKey(timestamp: number, userId: string, text: string, source = 'zoom'): string {
  return digest(['t', timestamp, userId, text, source]);
}

/**
 * A chat message without a `message_id` (plain-text chat): timestamp, sender and text. Messages with
 * an id already have their own unique index (`chat_message_id`) and get no key.
 */
export function chatKey(timestamp: number, userId: string, text: string): string {
  return digest(['c', timestamp, userId, text]);
}

/** A timeline event: type, timestamp, user and its data as stored (JSON text). */
export function eventKey(type: string, timestamp: number, userId: string | null, data: string | null): string {
  return digest(['e', type, timestamp, userId, data]);
}
