/**
 * The config file (`openrtms.config.json`): reading, `${ENV_VAR}` interpolation and validation.
 * Every problem becomes one {@link ConfigError} whose message starts with the JSON path of the bad
 * value (`apps[1].clientSecret: expected a non-empty string`) and never contains a secret: values are
 * only echoed for fields that are not credentials (products, URLs).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { PRODUCTS, type Product } from '../protocol/index.js';
import type { AppConfig, OpenRtmsConfig, ZoomApiConfig } from './types.js';
import { parseDestinations } from './destinations.js';
import { registerConfigSecrets } from '../util/secrets.js';
import { parseTranscription } from '../intelligence/stt/config.js';
import { parseIntelligence } from '../intelligence/config.js';
import { parseRetention } from './retention.js';

export const CONFIG_FILE_NAME = 'openrtms.config.json';

const bad = (path: string, what: string) => new ConfigError('CONFIG_INVALID', `${path}: ${what}`, { path });

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Replaces `${NAME}` in every string of `value` with the environment's value (recursively). */
export function interpolate(value: Json, path: string, env: NodeJS.ProcessEnv): Json {
  if (typeof value === 'string') {
    return value.replace(/\$\{([^}]*)\}/g, (_m, name: string) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw bad(path, `"\${${name}}" is not a valid environment variable reference`);
      const v = env[name];
      if (v === undefined) throw bad(path, `environment variable ${name} is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, `${path}[${i}]`, env));
  if (value && typeof value === 'object') {
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, path ? `${path}.${k}` : k, env);
    return out;
  }
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(obj: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw bad(path ? `${path}.${k}` : k, `unknown key (expected one of ${allowed.join(', ')})`);
  }
}

function nonEmpty(obj: Record<string, unknown>, key: string, path: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.trim() === '') throw bad(`${path}.${key}`, v === undefined ? 'missing; expected a non-empty string' : 'expected a non-empty string');
  return v;
}

function url(obj: Record<string, unknown>, key: string, path: string, fallback: string): string {
  const v = obj[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !/^https?:\/\/[^/\s]+/.test(v)) throw bad(`${path}.${key}`, `expected an http(s) URL${typeof v === 'string' ? `, got "${v}"` : ''}`);
  return v.replace(/\/+$/, '');
}

function parseApp(v: unknown, path: string, names: Set<string>, index: number): AppConfig {
  if (!isObject(v)) throw bad(path, 'expected an object with products, clientId, clientSecret and secretToken');
  onlyKeys(v, path, ['name', 'products', 'clientId', 'clientSecret', 'secretToken']);
  const products = v.products;
  if (!Array.isArray(products) || products.length === 0) throw bad(`${path}.products`, `expected a non-empty list of ${PRODUCTS.join(', ')}`);
  products.forEach((p, i) => {
    if (!(PRODUCTS as readonly unknown[]).includes(p)) throw bad(`${path}.products[${i}]`, `expected one of ${PRODUCTS.join(', ')}, got ${JSON.stringify(p)}`);
    if (products.indexOf(p) !== i) throw bad(`${path}.products[${i}]`, `"${String(p)}" is listed twice`);
  });
  let name = `app${index + 1}`;
  if (v.name !== undefined) name = nonEmpty(v, 'name', path);
  if (names.has(name)) throw bad(`${path}.name`, `"${name}" is already the name of another app`);
  names.add(name);
  return {
    name,
    products: products as Product[],
    clientId: nonEmpty(v, 'clientId', path),
    clientSecret: nonEmpty(v, 'clientSecret', path),
    secretToken: nonEmpty(v, 'secretToken', path),
  };
}

function parseZoomApi(v: unknown, path: string): ZoomApiConfig {
  if (!isObject(v)) throw bad(path, 'expected an object with accountId, clientId and clientSecret');
  onlyKeys(v, path, ['accountId', 'clientId', 'clientSecret', 'baseUrl', 'oauthUrl']);
  return {
    accountId: nonEmpty(v, 'accountId', path),
    clientId: nonEmpty(v, 'clientId', path),
    clientSecret: nonEmpty(v, 'clientSecret', path),
    baseUrl: url(v, 'baseUrl', path, 'https://api.zoom.us'),
    oauthUrl: url(v, 'oauthUrl', path, 'https://zoom.us/oauth/token'),
  };
}

/** Validates the parsed (and interpolated) JSON of a config file. */
export function validateConfig(raw: unknown): OpenRtmsConfig {
  if (!isObject(raw)) throw bad('(root)', 'expected a JSON object');
  onlyKeys(raw, '', ['$schema', 'apps', 'zoomApi', 'destinations', 'transcription', 'intelligence', 'retention']);
  const apps: AppConfig[] = [];
  if (raw.apps !== undefined) {
    if (!Array.isArray(raw.apps)) throw bad('apps', 'expected a list of apps');
    const names = new Set<string>();
    raw.apps.forEach((a, i) => apps.push(parseApp(a, `apps[${i}]`, names, i)));
  }
  return {
    apps,
    ...(raw.zoomApi !== undefined ? { zoomApi: parseZoomApi(raw.zoomApi, 'zoomApi') } : {}),
    ...(raw.destinations !== undefined ? { destinations: parseDestinations(raw.destinations) } : {}),
    ...(raw.transcription !== undefined ? { transcription: parseTranscription(raw.transcription) } : {}),
    ...(raw.intelligence !== undefined ? { intelligence: parseIntelligence(raw.intelligence) } : {}),
    ...(raw.retention !== undefined ? { retention: parseRetention(raw.retention) } : {}),
  };
}

/** Parses a config file's text: JSON, then `${ENV}` interpolation, then validation. */
export function parseConfig(text: string, env: NodeJS.ProcessEnv = process.env): OpenRtmsConfig {
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (err) {
    throw bad('(root)', `not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  return validateConfig(interpolate(json, '', env));
}

/**
 * Which config file applies: `--config FILE`, else OPENRTMS_CONFIG, else `openrtms.config.json` in
 * `cwd` when it exists. An explicitly named file that does not exist is an error.
 */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | undefined {
  const named = flag || env.OPENRTMS_CONFIG || undefined;
  if (named) {
    const p = resolve(cwd, named);
    if (!existsSync(p)) throw new ConfigError('CONFIG_MISSING', `config file ${named} does not exist`, { path: named });
    return p;
  }
  const p = resolve(cwd, CONFIG_FILE_NAME);
  return existsSync(p) ? p : undefined;
}

/** Loads the applicable config file; an empty config (no apps) when there is none. */
export function loadConfig(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): OpenRtmsConfig {
  const path = configPath(flag, env, cwd);
  // From here on, no log line, error or API answer can show a secret of the environment or the file.
  registerConfigSecrets(undefined, env);
  if (!path) return { apps: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('CONFIG_MISSING', `cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const config = parseConfig(text, env);
    registerConfigSecrets(config, env);
    return { ...config, file: path };
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.code, `${path}: ${err.message}`, err.details as Record<string, unknown>);
    throw err;
  }
}

/**
 * The apps a server works with: the config file's, plus the environment's one-app shortcut
 * (ZM_RTMS_CLIENT/ZM_RTMS_SECRET or ZOOM_CLIENT_ID/ZOOM_CLIENT_SECRET, and ZOOM_SECRET_TOKEN) as a
 * default app for the products no configured app claims. The env app is skipped when incomplete
 * (and the file has apps) or when every product is claimed.
 */
export function resolveApps(config: OpenRtmsConfig, env: NodeJS.ProcessEnv = process.env): AppConfig[] {
  const apps = [...config.apps];
  const clientId = env.ZM_RTMS_CLIENT || env.ZOOM_CLIENT_ID;
  const clientSecret = env.ZM_RTMS_SECRET || env.ZOOM_CLIENT_SECRET;
  const secretToken = env.ZOOM_SECRET_TOKEN;
  if (!clientId || !clientSecret || !secretToken) return apps;
  const claimed = new Set(apps.flatMap((a) => a.products));
  const products = PRODUCTS.filter((p) => !claimed.has(p));
  if (products.length === 0) return apps;
  const name = apps.some((a) => a.name === 'env') ? 'env-default' : 'env';
  apps.push({ name, products, clientId, clientSecret, secretToken });
  return apps;
}

/** The first app that claims `product`. */
export function appFor(apps: readonly AppConfig[], product: string): AppConfig | undefined {
  return apps.find((a) => (a.products as readonly string[]).includes(product));
}
