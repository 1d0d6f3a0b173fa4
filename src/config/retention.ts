/**
 * The config file's `retention` entry: how long streams are kept before the daily sweep deletes them.
 *   "retention": { "days": 30, "products": { "phone": 7 }, "dryRun": false }
 * `days` applies to every product without its own entry; a product without either is kept forever.
 * Errors are one line naming the JSON path, like the rest of the config file.
 */
import { ConfigError } from '../errors.js';
import { PRODUCTS, type Product } from '../protocol/index.js';

export interface RetentionConfig {
  /** Days a stream is kept after it stopped (started, if it never stopped), for products without their own entry. */
  days?: number;
  /** Per product, overriding `days`. */
  products: Partial<Record<Product, number>>;
  /** Only log (and list) what would be deleted. Default false. */
  dryRun: boolean;
}

const bad = (path: string, what: string) => new ConfigError('CONFIG_INVALID', `${path}: ${what}`, { path });

function days(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 36_500) throw bad(path, `expected a number of days greater than 0 (fractions allowed), got ${JSON.stringify(v)}`);
  return v;
}

export function parseRetention(v: unknown, path = 'retention'): RetentionConfig {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(path, 'expected an object like {"days": 30, "products": {"phone": 7}, "dryRun": false}');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['days', 'products', 'dryRun'].includes(k)) throw bad(`${path}.${k}`, 'unknown key (expected one of days, products, dryRun)');
  const out: RetentionConfig = { products: {}, dryRun: false };
  if (o.days !== undefined) out.days = days(o.days, `${path}.days`);
  if (o.products !== undefined) {
    if (typeof o.products !== 'object' || o.products === null || Array.isArray(o.products)) throw bad(`${path}.products`, `expected an object of days per product (${PRODUCTS.join(', ')})`);
    for (const [p, d] of Object.entries(o.products)) {
      if (!(PRODUCTS as readonly string[]).includes(p)) throw bad(`${path}.products.${p}`, `unknown product (expected one of ${PRODUCTS.join(', ')})`);
      out.products[p as Product] = days(d, `${path}.products.${p}`);
    }
  }
  if (o.dryRun !== undefined) {
    if (typeof o.dryRun !== 'boolean') throw bad(`${path}.dryRun`, `expected true or false, got ${JSON.stringify(o.dryRun)}`);
    out.dryRun = o.dryRun;
  }
  if (out.days === undefined && Object.keys(out.products).length === 0) throw bad(path, 'give "days" or at least one entry in "products"');
  return out;
}

/** Days `product` is kept, or undefined (kept forever). */
export function retentionDays(config: RetentionConfig, product: string): number | undefined {
  return config.products[product as Product] ?? config.days;
}
