/**
 * A tiny runtime schema checker for RTMS JSON. It is ours rather than a general library because it
 * runs on the media hot path (50 audio frames a second per stream): checking allocates nothing when
 * the value is valid, and a failure names the exact field and what was expected.
 */

/** Where and why a value failed its schema. */
export interface Issue {
  /** Dotted path of the offending field, e.g. `media_params.audio.codec`. */
  readonly path: string;
  /** What the schema expected there, e.g. `integer`, `one of 1, 2`. */
  readonly expected: string;
  /** A short description of what was found. */
  readonly received: string;
}

/** Hands out local variable names to generated code. */
interface CodeContext {
  fresh(): string;
}

/** A schema for values of type `T`. */
export interface Schema<T> {
  /** Human description of the accepted values. */
  readonly expected: string;
  /** Returns undefined when `value` conforms, else the first issue found. */
  check(value: unknown, path: string): Issue | undefined;
  /**
   * The check as a JavaScript boolean expression over the value expression `v` (which it may
   * repeat: it must be a variable or a property read), for {@link object}'s compiled fast path.
   * Absent where a schema cannot say it that way; objects containing such a schema are then
   * checked field by field.
   */
  readonly code?: (v: string, ctx: CodeContext) => string;
  /** Present only in the type system. */
  readonly __type?: T;
  /** Marks an object field that may be absent. */
  readonly optional?: boolean;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** Describes a received value briefly, without echoing large payloads. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array(${value.length})`;
  switch (typeof value) {
    case 'string':
      return value.length > 40 ? `string(${value.length} chars)` : JSON.stringify(value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'undefined':
      return 'missing';
    default:
      return typeof value;
  }
}

function issue(path: string, expected: string, value: unknown): Issue {
  return { path, expected, received: describeValue(value) };
}

/** A schema of one test, given both as a function and as code over the value expression. */
function primitive<T>(expected: string, test: (v: unknown) => boolean, code: (v: string) => string): Schema<T> {
  return {
    expected,
    check: (v, path) => (test(v) ? undefined : issue(path, expected, v)),
    code: (v) => `(${code(v)})`,
  };
}

export const str = (): Schema<string> => primitive('string', (v) => typeof v === 'string', (v) => `typeof ${v} === 'string'`);
export const nonEmptyStr = (): Schema<string> =>
  primitive('non-empty string', (v) => typeof v === 'string' && v.length > 0, (v) => `typeof ${v} === 'string' && ${v}.length > 0`);
export const int = (): Schema<number> => primitive('integer', (v) => Number.isInteger(v), (v) => `Number.isInteger(${v})`);
export const num = (): Schema<number> =>
  primitive('number', (v) => typeof v === 'number' && Number.isFinite(v), (v) => `typeof ${v} === 'number' && Number.isFinite(${v})`);
export const bool = (): Schema<boolean> => primitive('boolean', (v) => typeof v === 'boolean', (v) => `typeof ${v} === 'boolean'`);
export const unknownValue = (): Schema<unknown> => primitive('any value', () => true, () => 'true');

/** Integer or numeric string (ids such as `user_id` have been seen as either). */
export const intOrString = (): Schema<number | string> =>
  primitive('integer or string', (v) => Number.isInteger(v) || typeof v === 'string', (v) => `Number.isInteger(${v}) || typeof ${v} === 'string'`);

/** A literal value, such as a fixed `msg_type`. */
export function literal<const T extends number | string | boolean>(value: T): Schema<T> {
  return primitive(JSON.stringify(value), (v) => v === value, (v) => `${v} === ${JSON.stringify(value)}`);
}

/** One of the values of a constant table such as `Codec`. */
export function oneOf<T extends Record<string, number>>(table: T, name: string): Schema<T[keyof T]> {
  const values = new Set<number>(Object.values(table));
  const expected = `${name} (one of ${[...values].join(', ')})`;
  return primitive(expected, (v) => typeof v === 'number' && values.has(v), (v) => [...values].map((x) => `${v} === ${JSON.stringify(x)}`).join(' || ') || 'false');
}

/** Makes an object field optional. */
export function optional<T>(schema: Schema<T>): Schema<T | undefined> {
  const inner = schema.code;
  return {
    expected: `${schema.expected} (optional)`,
    optional: true,
    check: (v, path) => (v === undefined ? undefined : schema.check(v, path)),
    ...(inner ? { code: (v: string, ctx: CodeContext) => `(${v} === undefined || ${inner(v, ctx)})` } : {}),
  };
}

/** Accepts `null` as well. */
export function nullable<T>(schema: Schema<T>): Schema<T | null> {
  const inner = schema.code;
  return {
    expected: `${schema.expected} or null`,
    check: (v, path) => (v === null ? undefined : schema.check(v, path)),
    ...(inner ? { code: (v: string, ctx: CodeContext) => `(${v} === null || ${inner(v, ctx)})` } : {}),
  };
}

export function array<T>(item: Schema<T>, maxLength = 10_000): Schema<T[]> {
  const expected = `array of ${item.expected}`;
  return {
    expected,
    check(v, path) {
      if (!Array.isArray(v)) return issue(path, expected, v);
      if (v.length > maxLength) return issue(path, `at most ${maxLength} items`, v);
      for (let i = 0; i < v.length; i++) {
        const found = item.check(v[i], `${path}[${i}]`);
        if (found) return found;
      }
      return undefined;
    },
  };
}

/** Map of string keys to values of one schema (e.g. `server_urls`). */
export function record<T>(value: Schema<T>): Schema<Record<string, T>> {
  const expected = `object of ${value.expected}`;
  return {
    expected,
    check(v, path) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return issue(path, expected, v);
      for (const key of Object.keys(v)) {
        const found = value.check((v as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
        if (found) return found;
      }
      return undefined;
    },
  };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : undefined extends Infer<S[K]> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined> }
>;

/**
 * An object with known fields. Unknown extra fields are allowed: Zoom adds fields over time.
 *
 * When every field can say its check as code, the object compiles (on first use) into one function
 * that accepts a valid value without a call per field: the media frames' path. Anything it rejects
 * is checked again field by field, which names the issue.
 */
export function object<S extends Shape>(shape: S, name = 'object'): Schema<ObjectOf<S>> {
  const keys = Object.keys(shape);
  const schemas = keys.map((k) => shape[k]);
  const compilable = schemas.every((s) => s.code);
  const code = (v: string, ctx: CodeContext): string => {
    const o = ctx.fresh();
    const fields = keys.map((k, i) => schemas[i].code!(`${o}[${JSON.stringify(k)}]`, ctx));
    return `((${o} = ${v}) !== null && typeof ${o} === 'object' && !Array.isArray(${o})${fields.map((f) => ` && ${f}`).join('')})`;
  };
  let accepts: ((v: unknown) => boolean) | undefined;
  const compile = (): ((v: unknown) => boolean) => {
    const vars: string[] = [];
    const body = code('value', { fresh: () => `v${vars.push(`v${vars.length}`) - 1}` });
    return new Function('value', `${vars.length ? `let ${vars.join(', ')};\n` : ''}return ${body};`) as (v: unknown) => boolean;
  };
  return {
    expected: name,
    ...(compilable ? { code } : {}),
    check(v, path) {
      if (compilable && (accepts ??= compile())(v)) return undefined;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return issue(path, name, v);
      const o = v as Record<string, unknown>;
      for (let i = 0; i < keys.length; i++) {
        const found = schemas[i].check(o[keys[i]], path ? `${path}.${keys[i]}` : keys[i]);
        if (found) return found;
      }
      return undefined;
    },
  };
}
