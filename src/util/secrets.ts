/**
 * Secrets from the config file and the environment never leave the process: not in a log line, an
 * error message or an API answer. Two complementary nets:
 * - by key: any value under a key named like a secret (`clientSecret`, `secretToken`, `apiKey`,
 *   `password`, `connectionString`, `secretAccessKey`, `authorization`…) at any depth is replaced
 *   ({@link redactDeep}, used by the logger);
 * - by value: every secret the config file and the environment hold is registered when they are
 *   loaded ({@link registerConfigSecrets}), and any text that contains one — an SDK's error message
 *   quoting a connection string, a URL with a stream key — gets it replaced ({@link redactText}, used
 *   by the logger, the HTTP error handler, API answers and the CLI's error line).
 */

export const REDACTED = '[redacted]';

/** Keys whose values are secrets, whatever the nesting (case-insensitive, `_`/`-` ignored). */
const SECRET_KEY = /secret|password|passwd|token|apikey|connectionstring|authorization|signature|privatekey|credential|sharedkey/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.replace(/[-_]/g, ''));
}

/** Shorter values are not registered: replacing every "abc" in every log line would hide more than it protects. */
const MIN_SECRET_LENGTH = 6;

const registered = new Set<string>();
let pattern: RegExp | undefined;

/** Adds values to the process-wide set that {@link redactText} hides. */
export function registerSecrets(values: Iterable<string>): void {
  let added = false;
  for (const v of values) {
    if (typeof v !== 'string' || v.length < MIN_SECRET_LENGTH) continue;
    // Also the form a JSON body or log line holds (quotes and backslashes escaped).
    for (const form of [v, JSON.stringify(v).slice(1, -1), encodeURIComponent(v)]) {
      if (!registered.has(form)) {
        registered.add(form);
        added = true;
      }
    }
  }
  if (added) {
    // Longest first, so a secret containing another is hidden whole.
    const sorted = [...registered].sort((a, b) => b.length - a.length);
    pattern = new RegExp(sorted.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  }
}

/** Forgets every registered secret (tests). */
export function clearSecrets(): void {
  registered.clear();
  pattern = undefined;
}

/** `text` with every registered secret replaced by `[redacted]`. */
export function redactText(text: string): string {
  if (!pattern) return text;
  pattern.lastIndex = 0;
  return pattern.test(text) ? text.replace(pattern, REDACTED) : text;
}

/** Whether any secret is registered (lets callers skip work on the common path). */
export function hasSecrets(): boolean {
  return pattern !== undefined;
}

/**
 * A copy of `value` with the strings under secret-named keys replaced, at any depth (numbers and
 * booleans kept: a count named `rejected_signature` is no secret), and registered secrets hidden
 * in every other string. Cycles and depth are bounded.
 */
export function redactDeep(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (seen.has(value)) return value;
  seen.add(value);
  if (value instanceof Error) return { type: value.name, message: redactText(value.message), ...(value.stack ? { stack: redactText(value.stack) } : {}) };
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1, seen));
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && (typeof v === 'string' || (v !== null && typeof v === 'object')) ? REDACTED : redactDeep(v, depth + 1, seen);
  }
  return out;
}

/**
 * The secret values in a config object: strings under secret-named keys, passwords in URLs and the
 * stream key of an RTMP URL (its last path segment).
 */
export function collectSecrets(config: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, key: string, depth: number) => {
    if (depth > 12 || v === null || v === undefined) return;
    if (typeof v === 'string') {
      if (isSecretKey(key)) out.push(v);
      else out.push(...urlSecrets(v));
      return;
    }
    if (Array.isArray(v)) v.forEach((x) => walk(x, key, depth + 1));
    else if (typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k, depth + 1);
  };
  walk(config, '', 0);
  return out;
}

function urlSecrets(s: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return [];
  const out: string[] = [];
  try {
    const u = new URL(s);
    if (u.password) out.push(decodeURIComponent(u.password));
    if (/^rtmps?:$/.test(u.protocol)) {
      const key = u.pathname.split('/').filter(Boolean).slice(1).pop();
      if (key) out.push(decodeURIComponent(key));
    }
  } catch {
    // not a URL after all
  }
  return out;
}

/**
 * The environment's secrets: every variable named like one (ZM_RTMS_SECRET, ZOOM_SECRET_TOKEN,
 * OPENRTMS_API_TOKEN, a provider's *_API_KEY, AWS_SECRET_ACCESS_KEY…) and the password of a database URL.
 */
export function envSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (!v) continue;
    if (isSecretKey(k)) out.push(v);
    if (k === 'DATABASE_URL' || k === 'NATS_URL') out.push(...urlSecrets(v));
  }
  return out;
}

/** Registers the secrets of a loaded config and of the environment. */
export function registerConfigSecrets(config: unknown, env: NodeJS.ProcessEnv = process.env): void {
  registerSecrets([...collectSecrets(config), ...envSecrets(env)]);
}
