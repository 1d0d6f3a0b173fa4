/**
 * Deterministic event ids: a hash of the stream, the type and what happened (timestamp, user,
 * message id...). The same happening seen again (a rejoin, a restart) gets the same id, which is
 * the receiver's idempotency key and the outbox's de-duplication key.
 */
import { createHash } from 'node:crypto';

export function eventId(rtmsStreamId: string, type: string, key: readonly unknown[]): string {
  return `evt_${createHash('sha256').update(JSON.stringify([rtmsStreamId, type, ...key.map((k) => k ?? null)])).digest('hex').slice(0, 32)}`;
}
