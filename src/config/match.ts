/**
 * The `match` filter shared by destinations, transcription entries and the intelligence entry: which
 * streams an entry applies to (products and meeting ids; destinations add event types).
 */
import { ConfigError } from '../errors.js';
import { PRODUCTS, type Product } from '../protocol/index.js';

export interface StreamMatch {
  products?: Product[];
  /** meeting_uuid / session_id / … values. */
  meetingIds?: string[];
}

const bad = (path: string, what: string) => new ConfigError('CONFIG_INVALID', `${path}: ${what}`, { path });

/**
 * Validates a `match` object: `products` and `meetingIds`, plus the `extraKeys` the caller parses
 * itself (returned untouched in `extra`). One-line errors naming the JSON path.
 */
export function parseStreamMatch(v: unknown, path: string, extraKeys: readonly string[] = []): { match: StreamMatch; extra: Record<string, unknown> } {
  const keys = ['products', 'meetingIds', ...extraKeys];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(path, `expected an object with ${keys.slice(0, -1).join(', ')} and/or ${keys.at(-1)}`);
  const obj = v as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (!keys.includes(k)) throw bad(`${path}.${k}`, `unknown key (expected one of ${keys.join(', ')})`);
  const out: StreamMatch = {};
  const extra: Record<string, unknown> = {};
  if (obj.products !== undefined) {
    if (!Array.isArray(obj.products) || obj.products.length === 0) throw bad(`${path}.products`, `expected a non-empty list of ${PRODUCTS.join(', ')}`);
    obj.products.forEach((p, i) => {
      if (!(PRODUCTS as readonly unknown[]).includes(p)) throw bad(`${path}.products[${i}]`, `expected one of ${PRODUCTS.join(', ')}, got ${JSON.stringify(p)}`);
    });
    out.products = obj.products as Product[];
  }
  if (obj.meetingIds !== undefined) {
    if (!Array.isArray(obj.meetingIds) || obj.meetingIds.length === 0) throw bad(`${path}.meetingIds`, 'expected a non-empty list of strings');
    obj.meetingIds.forEach((m, i) => {
      if (typeof m !== 'string' || m === '') throw bad(`${path}.meetingIds[${i}]`, 'expected a string');
    });
    out.meetingIds = obj.meetingIds as string[];
  }
  for (const k of extraKeys) if (obj[k] !== undefined) extra[k] = obj[k];
  return { match: out, extra };
}
