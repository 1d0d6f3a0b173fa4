/** Schema helpers for scenario files, on top of the protocol's schema checker. */
import type { Schema } from '../protocol/schema.js';
export { array, bool, int, nonEmptyStr, num, object, optional } from '../protocol/schema.js';
export { PRODUCTS, type Product } from '../protocol/webhook.js';

/** One of a list of words. */
export function oneOfStrings<const T extends string>(values: readonly T[]): Schema<T> {
  const expected = `one of ${values.join(', ')}`;
  return {
    expected,
    check: (v, path) => (typeof v === 'string' && (values as readonly string[]).includes(v) ? undefined : { path, expected, received: JSON.stringify(v) ?? 'missing' }),
  };
}
