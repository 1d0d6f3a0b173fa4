/** `openrtms serve`: the production server (webhook, API, dashboard, health) for a real Zoom app. */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { openStore } from '../store/open.js';
import { repairRecordings } from '../recorder/repair.js';
import { createRuntime } from '../server/runtime.js';
import { UsageError, choiceFlag, helpText, intFlag, parseCommand, type CommandSpec } from './args.js';
import { loadDotEnv } from './dotenv.js';
import { createLogger } from '../log.js';

export const spec: CommandSpec = {
  name: 'serve',
  summary: 'the production server: webhook, API, dashboard, health',
  usage: 'openrtms serve [--port 8080] [--host 127.0.0.1] [--data-dir ./data] [--store sqlite|postgres]',
  flags: {
    port: { type: 'string', help: 'HTTP port (default: ZM_RTMS_PORT or 8080)' },
    host: { type: 'string', default: '127.0.0.1', help: 'address to bind; a non-loopback address needs OPENRTMS_API_TOKEN' },
    'data-dir': { type: 'string', help: 'database and recordings (default: OPENRTMS_DATA_DIR or ./data)' },
    store: { type: 'string', help: 'sqlite (default) or postgres (uses DATABASE_URL)' },
  },
  examples: [
    'ZM_RTMS_CLIENT=… ZM_RTMS_SECRET=… ZOOM_SECRET_TOKEN=… openrtms serve',
    'openrtms serve --port 3000 --data-dir /var/lib/openrtms',
    'DATABASE_URL=postgres://user@db/rtms openrtms serve --store postgres --host 0.0.0.0   # needs OPENRTMS_API_TOKEN',
  ],
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function required(names: string[]): string {
  for (const n of names) if (process.env[n]) return process.env[n]!;
  throw new UsageError(`serve: ${names[0]} is not set${names.length > 1 ? ` (${names.slice(1).join(' or ')} also accepted)` : ''}; put it in the environment or a .env file`);
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, help } = parseCommand(spec, argv);
  if (help) {
    console.log(helpText(spec));
    return 0;
  }
  loadDotEnv();
  const clientId = required(['ZM_RTMS_CLIENT', 'ZOOM_CLIENT_ID']);
  const clientSecret = required(['ZM_RTMS_SECRET', 'ZOOM_CLIENT_SECRET']);
  const secretToken = required(['ZOOM_SECRET_TOKEN']);
  const port = intFlag('port', v.port ?? process.env.ZM_RTMS_PORT ?? '8080', { max: 65535 });
  const host = String(v.host);
  const webhookPath = process.env.ZM_RTMS_PATH || '/webhook';
  if (!webhookPath.startsWith('/')) throw new UsageError(`serve: ZM_RTMS_PATH must start with "/", got "${webhookPath}"`);
  const apiToken = process.env.OPENRTMS_API_TOKEN || undefined;
  if (!LOOPBACK.has(host) && !apiToken) throw new UsageError(`serve: binding ${host} exposes the API; set OPENRTMS_API_TOKEN first`);
  const storeKind = v.store === undefined ? (process.env.DATABASE_URL ? 'postgres' : 'sqlite') : choiceFlag('store', v.store, ['sqlite', 'postgres'] as const);
  if (storeKind === 'postgres' && !process.env.DATABASE_URL) throw new UsageError('serve: --store postgres needs DATABASE_URL (postgres://…)');
  const dataDir = resolve(String(v['data-dir'] ?? process.env.OPENRTMS_DATA_DIR ?? './data'));
  mkdirSync(dataDir, { recursive: true });
  const store = await openStore({ dataDir, databaseUrl: storeKind === 'postgres' ? process.env.DATABASE_URL : null });
  const repaired = await repairRecordings(dataDir);
  if (repaired.repairedWavs.length || repaired.incomplete.length) {
    console.error(`repaired ${repaired.repairedWavs.length} WAV header(s); ${repaired.incomplete.length} recording(s) marked incomplete after an unclean stop`);
  }
  let log;
  try {
    log = createLogger();
  } catch (err) {
    throw new UsageError(`serve: ${(err as Error).message}`);
  }
  const logger = { info: (o: object, m?: string) => log.info(o, m), warn: (o: object, m?: string) => log.warn(o, m) };
  const runtime = createRuntime({ clientId, clientSecret, secretToken, webhookPath, store, dataDir, apiToken, logger });
  let url: string;
  try {
    ({ url } = await runtime.app.listen(port, host));
  } catch (err) {
    await runtime.shutdown();
    throw new ConfigError('CONFIG_INVALID', `cannot listen on ${host}:${port}: ${(err as Error).message}`);
  }
  console.log(`openrtms serve: webhook ${url}${webhookPath} · dashboard ${url}/ · store ${store.kind} (${store.location})`);
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', resolveStop);
    process.once('SIGTERM', resolveStop);
  });
  console.log('stopping: leaving streams and flushing…');
  await runtime.shutdown();
  console.log('stopped.');
  return 0;
}
