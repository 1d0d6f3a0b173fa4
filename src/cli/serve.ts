/** `openrtms serve`: the production server (webhook, API, dashboard, health) for a real Zoom app. */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { openStore } from '../store/open.js';
import { repairRecordings } from '../recorder/repair.js';
import { createRuntime } from '../server/runtime.js';
import { UsageError, choiceFlag, helpText, intFlag, parseCommand, type CommandSpec } from './args.js';
import { loadDotEnv } from './dotenv.js';
import { ClusterView, WebhookQueue, subscribeLiveFeed, type Cluster } from '../cluster/index.js';
import { apiTokenFor, clusterFromEnv, commandLogger, configFlag, configFromFile, describeApps, mediaFromEnv, serverApps, wakeCoalescingFromEnv } from './config.js';
import { ZoomStreamControl } from '../control/service.js';
import { RetentionSweeper } from '../deletion/retention.js';
import { hostname } from 'node:os';

export const spec: CommandSpec = {
  name: 'serve',
  summary: 'the production server: webhook, API, dashboard, health',
  usage: 'openrtms serve [--port 8080] [--host 127.0.0.1] [--data-dir ./data] [--store sqlite|postgres] [--config FILE]',
  flags: {
    port: { type: 'string', help: 'HTTP port (default: ZM_RTMS_PORT or 8080)' },
    host: { type: 'string', default: '127.0.0.1', help: 'address to bind; a non-loopback address needs OPENRTMS_API_TOKEN' },
    'data-dir': { type: 'string', help: 'database and recordings (default: OPENRTMS_DATA_DIR or ./data)' },
    store: { type: 'string', help: 'sqlite (default) or postgres (uses DATABASE_URL)' },
    config: configFlag,
  },
  examples: [
    'ZM_RTMS_CLIENT=… ZM_RTMS_SECRET=… ZOOM_SECRET_TOKEN=… openrtms serve',
    'openrtms serve --config /etc/openrtms/openrtms.config.json   # several apps, zoomApi for POST /api/control',
    'openrtms serve --port 3000 --data-dir /var/lib/openrtms',
    'DATABASE_URL=postgres://user@db/rtms openrtms serve --store postgres --host 0.0.0.0   # needs OPENRTMS_API_TOKEN',
    'NATS_URL=nats://127.0.0.1:4222 DATABASE_URL=postgres://… openrtms serve   # cluster gateway; run `openrtms worker` too',
  ],
};

export async function run(argv: string[]): Promise<number> {
  const { values: v, help } = parseCommand(spec, argv);
  if (help) {
    console.log(helpText(spec));
    return 0;
  }
  loadDotEnv();
  const config = configFromFile('serve', v.config);
  const apps = serverApps('serve', config);
  const control = config.zoomApi ? new ZoomStreamControl(config.zoomApi, apps) : undefined;
  const port = intFlag('port', v.port ?? process.env.ZM_RTMS_PORT ?? '8080', { max: 65535 });
  const host = String(v.host);
  const webhookPath = process.env.ZM_RTMS_PATH || '/webhook';
  if (!webhookPath.startsWith('/')) throw new UsageError(`serve: ZM_RTMS_PATH must start with "/", got "${webhookPath}"`);
  const apiToken = apiTokenFor('serve', host);
  const storeKind = v.store === undefined ? (process.env.DATABASE_URL ? 'postgres' : 'sqlite') : choiceFlag('store', v.store, ['sqlite', 'postgres'] as const);
  if (storeKind === 'postgres' && !process.env.DATABASE_URL) throw new UsageError('serve: --store postgres needs DATABASE_URL (postgres://…)');
  const dataDir = resolve(String(v['data-dir'] ?? process.env.OPENRTMS_DATA_DIR ?? './data'));
  const media = mediaFromEnv('serve');
  const wakeCoalescingMs = wakeCoalescingFromEnv('serve');
  const clustered = Boolean(process.env.NATS_URL);
  if (clustered && storeKind !== 'postgres') throw new UsageError('serve: cluster mode (NATS_URL) needs DATABASE_URL: the gateway and the workers share one PostgreSQL store');
  const logger = commandLogger('serve');
  mkdirSync(dataDir, { recursive: true });
  let cluster: Cluster | undefined;
  let view: ClusterView | undefined;
  if (clustered) {
    cluster = await clusterFromEnv('serve', `openrtms-gateway-${host}:${port}`);
    view = new ClusterView(cluster);
    await view.start();
  }
  const store = await openStore({ dataDir, databaseUrl: storeKind === 'postgres' ? process.env.DATABASE_URL : null });
  if (!clustered) {
    // In a cluster the recordings belong to the workers, which may be writing them right now.
    const repaired = await repairRecordings(dataDir);
    if (repaired.repairedWavs.length || repaired.repairedMp4s.length || repaired.incomplete.length) {
      console.error(`repaired ${repaired.repairedWavs.length} WAV header(s), cut ${repaired.repairedMp4s.length} MP4(s) back to their last whole fragment; ${repaired.incomplete.length} recording(s) marked incomplete after an unclean stop`);
    }
  }
  const queue = cluster && new WebhookQueue(cluster);
  const runtime = createRuntime({ apps, control, webhookPath, store, dataDir, apiToken, logger, wakeCoalescingMs, destinations: config.destinations, transcription: config.transcription, intelligence: config.intelligence, ...(media ? { client: { media } } : {}), ...(queue && view ? { gateway: { enqueue: (e) => queue.publish(e), streams: view }, deletionCaches: [view] } : {}) });
  const stopRelay = cluster && subscribeLiveFeed(runtime.bus, cluster);
  // In a cluster the workers sweep (they hold the recordings); a gateway does not.
  const retention = config.retention && !cluster ? new RetentionSweeper({ config: config.retention, store, deleter: runtime.deleter, holder: `serve-${hostname()}-${process.pid}`, logger }) : undefined;
  const stopAll = async () => {
    await retention?.stop();
    stopRelay?.();
    view?.stop();
    await runtime.shutdown();
    await cluster?.close();
  };
  let url: string;
  try {
    ({ url } = await runtime.app.listen(port, host));
  } catch (err) {
    await stopAll();
    throw new ConfigError('CONFIG_INVALID', `cannot listen on ${host}:${port}: ${(err as Error).message}`);
  }
  const mode = cluster ? ` · cluster gateway "${cluster.names.prefix}" at ${process.env.NATS_URL}` : '';
  console.log(`openrtms serve: webhook ${url}${webhookPath} · dashboard ${url}/ · store ${store.kind} (${store.location})${mode}`);
  retention?.start();
  console.log(`apps: ${describeApps(apps)}${config.file ? ` · config ${config.file}` : ''}${control ? ' · stream control via Zoom API' : ''}${runtime.delivery.size ? ` · destinations: ${runtime.delivery.list().map((d) => `${d.name} (${d.type})`).join(', ')}` : ''}${config.intelligence ? ` · notes and summaries: ${config.intelligence.provider} ${config.intelligence.model}` : ''}`);
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', resolveStop);
    process.once('SIGTERM', resolveStop);
  });
  console.log(cluster ? 'stopping the gateway…' : 'stopping: leaving streams and flushing…');
  await stopAll();
  console.log('stopped.');
  return 0;
}
