/** Settings shared by `serve` and `worker`: required env vars, the logger, the cluster connection. */
import { assertDestinationsBuilt } from '../delivery/factories.js';
import { assertProvidersBuilt } from '../intelligence/stt/providers.js';
import { createLogger } from '../log.js';
import { connectCluster, type Cluster } from '../cluster/index.js';
import { ConfigError, OpenRtmsError } from '../errors.js';
import { CONFIG_FILE_NAME, loadConfig, resolveApps, type AppConfig, type OpenRtmsConfig } from '../config/index.js';
import { MEDIA_KINDS, type MediaKind } from '../protocol/index.js';
import { UsageError } from './args.js';
import { DEFAULT_WAKE_COALESCING_MS, MAX_WAKE_COALESCING_MS } from '../util/wake-coalescing.js';

/** The first of `names` that is set; a one-line UsageError naming them otherwise. */
export function requiredEnv(command: string, names: string[]): string {
  for (const n of names) if (process.env[n]) return process.env[n]!;
  throw new UsageError(`${command}: ${names[0]} is not set${names.length > 1 ? ` (${names.slice(1).join(' or ')} also accepted)` : ''}; put it in the environment or a .env file`);
}

/** The app's Client ID and Client Secret (ZM_RTMS_* or ZOOM_CLIENT_*), one line naming what is missing. */
export function rtmsCredentials(command: string): { clientId: string; clientSecret: string } {
  return { clientId: requiredEnv(command, ['ZM_RTMS_CLIENT', 'ZOOM_CLIENT_ID']), clientSecret: requiredEnv(command, ['ZM_RTMS_SECRET', 'ZOOM_CLIENT_SECRET']) };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** OPENRTMS_API_TOKEN; required (UsageError) when the API is bound to a non-loopback `host`. */
export function apiTokenFor(command: string, host: string): string | undefined {
  const token = process.env.OPENRTMS_API_TOKEN || undefined;
  if (!LOOPBACK.has(host) && !token) throw new UsageError(`${command}: binding ${host} exposes the API; set OPENRTMS_API_TOKEN first`);
  return token;
}

export interface CommandLogger {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
}

/** The process logger (ZM_RTMS_LOG_*), or a UsageError naming the bad setting. */
export function commandLogger(command: string): CommandLogger {
  let log;
  try {
    log = createLogger();
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message}`);
  }
  return { info: (o, m) => log.info(o, m), warn: (o, m) => log.warn(o, m) };
}

/** Connects to NATS_URL for cluster mode; errors become one line naming the URL. */
export async function clusterFromEnv(command: string, name: string): Promise<Cluster> {
  const url = process.env.NATS_URL!;
  try {
    return await connectCluster({ url, prefix: process.env.OPENRTMS_CLUSTER || undefined, name });
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(`${command}: OPENRTMS_CLUSTER: ${err.message}`);
    if (err instanceof OpenRtmsError) throw new UsageError(`${command}: ${err.message}`);
    throw err;
  }
}

/** OPENRTMS_WAKE_COALESCING_MS: how long the event loop may sleep after reading frames, so later ones are read together (0 = off). */
export function wakeCoalescingFromEnv(command: string): number {
  const text = process.env.OPENRTMS_WAKE_COALESCING_MS;
  if (text === undefined || text === '') return DEFAULT_WAKE_COALESCING_MS;
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_WAKE_COALESCING_MS) {
    throw new UsageError(`${command}: OPENRTMS_WAKE_COALESCING_MS: expected milliseconds from 0 (off) to ${MAX_WAKE_COALESCING_MS}, got "${text}"`);
  }
  return ms;
}

/** OPENRTMS_MEDIA: the media kinds to receive (comma list); undefined = all of them. */
export function mediaFromEnv(command: string): MediaKind[] | undefined {
  const text = process.env.OPENRTMS_MEDIA;
  if (!text) return undefined;
  const kinds = text.split(',').map((k) => k.trim()) as MediaKind[];
  for (const k of kinds) if (!MEDIA_KINDS.includes(k)) throw new UsageError(`${command}: OPENRTMS_MEDIA: expected a comma list of ${MEDIA_KINDS.join(', ')}, got "${k}"`);
  return kinds;
}

/** The `--config FILE` flag shared by serve, worker, demo and control. */
export const configFlag = { type: 'string', help: `config file (default: OPENRTMS_CONFIG, else ./${CONFIG_FILE_NAME} when it exists)`, placeholder: 'FILE' } as const;

/** The config file (flag, OPENRTMS_CONFIG or ./openrtms.config.json); its errors become one UsageError line. */
export function configFromFile(command: string, flag: unknown): OpenRtmsConfig {
  try {
    const config = loadConfig(typeof flag === 'string' ? flag : undefined);
    try {
      assertDestinationsBuilt(config.destinations ?? []);
      assertProvidersBuilt(config.transcription ?? []);
    } catch (err) {
      throw err instanceof ConfigError && config.file ? new ConfigError(err.code, `${config.file}: ${err.message}`) : err;
    }
    return config;
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`${command}: ${err.message}`);
    throw err;
  }
}

/**
 * Every app the server verifies webhooks for and joins streams with: the config file's apps plus
 * the environment's one-app shortcut for the products they leave unclaimed. Without a config file
 * app, the environment must hold a complete app (the errors name the missing variable, as before).
 */
export function serverApps(command: string, config: OpenRtmsConfig): AppConfig[] {
  if (config.apps.length === 0) {
    rtmsCredentials(command);
    requiredEnv(command, ['ZOOM_SECRET_TOKEN']);
  }
  return resolveApps(config);
}

/** The apps' names and products for a start-up line (never a credential). */
export function describeApps(apps: readonly AppConfig[]): string {
  return apps.map((a) => `${a.name} (${a.products.join(', ')})`).join('; ');
}
