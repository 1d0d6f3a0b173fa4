/**
 * The config file's `destinations` list: each entry validated into a {@link DestinationConfig} with
 * its defaults. Errors are one line starting with the JSON path; credentials (secrets, keys,
 * connection strings, RTMP URLs that carry a stream key) are never echoed.
 */
import { ConfigError } from '../errors.js';
import { parseStreamMatch } from './match.js';
import { DELIVERY_EVENT_TYPES, type DeliveryEventType, type DestinationConfig, type DestinationMatch } from '../delivery/types.js';

const TYPES = ['webhook', 's3', 'azure-blob', 'rtmp'] as const;
const bad = (path: string, what: string) => new ConfigError('CONFIG_INVALID', `${path}: ${what}`, { path });

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function onlyKeys(obj: Obj, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) throw bad(`${path}.${k}`, `unknown key (expected one of ${allowed.join(', ')})`);
}

function str(obj: Obj, key: string, path: string): string {
  const v = obj[key];
  if (v === undefined) throw bad(`${path}.${key}`, 'missing; expected a string');
  if (typeof v !== 'string' || v.trim() === '') throw bad(`${path}.${key}`, 'expected a string');
  return v;
}

function optStr(obj: Obj, key: string, path: string): string | undefined {
  return obj[key] === undefined ? undefined : str(obj, key, path);
}

/** Like {@link str} but '' is allowed (a key prefix may be empty). */
function optPrefix(obj: Obj, key: string, path: string): string {
  const v = obj[key];
  if (v === undefined) return '';
  if (typeof v !== 'string') throw bad(`${path}.${key}`, 'expected a string');
  return v;
}

function bool(obj: Obj, key: string, path: string, fallback: boolean): boolean {
  const v = obj[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw bad(`${path}.${key}`, 'expected true or false');
  return v;
}

function positive(obj: Obj, key: string, path: string, fallback: number): number {
  const v = obj[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw bad(`${path}.${key}`, 'expected a positive number');
  return v;
}

/** An http(s) URL; echoed without its userinfo and query (they may carry credentials). */
function httpUrl(obj: Obj, key: string, path: string): string {
  const v = str(obj, key, path);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw bad(`${path}.${key}`, 'expected an http(s) URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad(`${path}.${key}`, `expected an http(s) URL, got a ${u.protocol.replace(':', '')}: URL`);
  return v;
}

function events(v: unknown, path: string): DeliveryEventType[] {
  if (!Array.isArray(v) || v.length === 0) throw bad(path, `expected a non-empty list of ${DELIVERY_EVENT_TYPES.join(', ')}`);
  v.forEach((e, i) => {
    if (!(DELIVERY_EVENT_TYPES as readonly unknown[]).includes(e)) throw bad(`${path}[${i}]`, `expected one of ${DELIVERY_EVENT_TYPES.join(', ')}, got ${JSON.stringify(e)}`);
  });
  return v as DeliveryEventType[];
}

function match(v: unknown, path: string): DestinationMatch {
  const { match: m, extra } = parseStreamMatch(v, path, ['events']);
  return { ...m, ...(extra.events !== undefined ? { events: events(extra.events, `${path}.events`) } : {}) };
}

const COMMON = ['type', 'name', 'match'];
const KEYS: Record<(typeof TYPES)[number], string[]> = {
  webhook: [...COMMON, 'url', 'secret', 'events', 'maxAgeHours', 'timeoutMs'],
  s3: [...COMMON, 'bucket', 'prefix', 'region', 'endpoint', 'forcePathStyle', 'accessKeyId', 'secretAccessKey', 'deleteLocal', 'maxAgeHours'],
  'azure-blob': [...COMMON, 'connectionString', 'container', 'prefix', 'deleteLocal', 'maxAgeHours'],
  rtmp: [...COMMON, 'url', 'ffmpegPath'],
};

function parseOne(v: unknown, path: string, counts: Map<string, number>, names: Set<string>): DestinationConfig {
  if (!isObject(v)) throw bad(path, `expected an object with a type (${TYPES.join(', ')})`);
  const type = v.type;
  if (!(TYPES as readonly unknown[]).includes(type)) throw bad(`${path}.type`, `expected one of ${TYPES.join(', ')}${typeof type === 'string' ? `, got "${type}"` : ''}`);
  const t = type as (typeof TYPES)[number];
  onlyKeys(v, path, KEYS[t]);
  const n = (counts.get(t) ?? 0) + 1;
  counts.set(t, n);
  const name = v.name === undefined ? `${t}${n}` : str(v, 'name', path);
  if (names.has(name)) throw bad(`${path}.name`, `"${name}" is already the name of another destination`);
  names.add(name);
  const base = { name, ...(v.match !== undefined ? { match: match(v.match, `${path}.match`) } : {}) };
  switch (t) {
    case 'webhook':
      return {
        ...base,
        type: t,
        url: httpUrl(v, 'url', path),
        secret: str(v, 'secret', path),
        ...(v.events !== undefined ? { events: events(v.events, `${path}.events`) } : {}),
        maxAgeHours: positive(v, 'maxAgeHours', path, 24),
        timeoutMs: positive(v, 'timeoutMs', path, 10_000),
      };
    case 's3': {
      const endpoint = v.endpoint === undefined ? undefined : httpUrl(v, 'endpoint', path);
      const accessKeyId = optStr(v, 'accessKeyId', path);
      const secretAccessKey = optStr(v, 'secretAccessKey', path);
      if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) throw bad(`${path}.${accessKeyId === undefined ? 'accessKeyId' : 'secretAccessKey'}`, 'missing; accessKeyId and secretAccessKey go together');
      return {
        ...base,
        type: t,
        bucket: str(v, 'bucket', path),
        prefix: optPrefix(v, 'prefix', path),
        region: optStr(v, 'region', path) ?? 'us-east-1',
        ...(endpoint ? { endpoint } : {}),
        forcePathStyle: bool(v, 'forcePathStyle', path, false),
        ...(accessKeyId !== undefined ? { accessKeyId, secretAccessKey } : {}),
        deleteLocal: bool(v, 'deleteLocal', path, false),
        maxAgeHours: positive(v, 'maxAgeHours', path, 24),
      };
    }
    case 'azure-blob':
      return {
        ...base,
        type: t,
        connectionString: str(v, 'connectionString', path),
        container: str(v, 'container', path),
        prefix: optPrefix(v, 'prefix', path),
        deleteLocal: bool(v, 'deleteLocal', path, false),
        maxAgeHours: positive(v, 'maxAgeHours', path, 24),
      };
    case 'rtmp': {
      const url = str(v, 'url', path);
      if (!/^rtmps?:\/\/[^/\s]+/.test(url)) throw bad(`${path}.url`, 'expected an rtmp:// or rtmps:// URL');
      const ffmpegPath = optStr(v, 'ffmpegPath', path);
      return { ...base, type: t, url, ...(ffmpegPath ? { ffmpegPath } : {}) };
    }
  }
}

/** Validates the `destinations` value of a config file (already interpolated). */
export function parseDestinations(v: unknown, path = 'destinations'): DestinationConfig[] {
  if (!Array.isArray(v)) throw bad(path, 'expected a list of destinations');
  const counts = new Map<string, number>();
  const names = new Set<string>();
  return v.map((d, i) => parseOne(d, `${path}[${i}]`, counts, names));
}
