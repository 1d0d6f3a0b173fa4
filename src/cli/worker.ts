/**
 * `openrtms worker`: a cluster worker. Takes webhook events from JetStream, owns the streams that
 * placement gives it (one owner per stream, by lease), records them into the shared data directory
 * and the shared PostgreSQL store, publishes their live feed on NATS, and takes over the streams of
 * workers that die. SIGINT/SIGTERM hand its streams to the other workers without ending them.
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ClusterWorker, closeOrphanedStream, publishLiveFeed } from '../cluster/index.js';
import { openStore } from '../store/open.js';
import { createRuntime } from '../server/runtime.js';
import { UsageError, helpText, intFlag, parseCommand, type CommandSpec } from './args.js';
import { apiTokenFor, clusterFromEnv, commandLogger, configFlag, configFromFile, mediaFromEnv, requiredEnv, rtmsCredentials, wakeCoalescingFromEnv } from './config.js';
import { resolveApps } from '../config/index.js';
import { loadDotEnv } from './dotenv.js';
import { RetentionSweeper } from '../deletion/retention.js';

export const spec: CommandSpec = {
  name: 'worker',
  summary: 'cluster worker (NATS_URL, DATABASE_URL)',
  usage: 'openrtms worker [--max-streams 200] [--data-dir ./data] [--id NAME] [--port N [--host 127.0.0.1]] [--config FILE]',
  flags: {
    'max-streams': { type: 'string', help: 'most streams this worker holds at once (default: OPENRTMS_MAX_STREAMS or 200)' },
    'data-dir': { type: 'string', help: 'recordings; shared by every worker (default: OPENRTMS_DATA_DIR or ./data)' },
    id: { type: 'string', help: 'worker name, unique in the cluster (default: OPENRTMS_WORKER_ID or <host>-<pid>)' },
    port: { type: 'string', help: 'serve /healthz, /readyz, /metrics and the API of its own streams on this port (default: none)' },
    host: { type: 'string', default: '127.0.0.1', help: 'address for --port; a non-loopback address needs OPENRTMS_API_TOKEN' },
    config: configFlag,
  },
  examples: [
    'NATS_URL=nats://127.0.0.1:4222 DATABASE_URL=postgres://rtms@db/rtms ZM_RTMS_CLIENT=… ZM_RTMS_SECRET=… openrtms worker',
    'openrtms worker --max-streams 400 --data-dir /mnt/recordings --port 9100',
  ],
};

const WORKER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export async function run(argv: string[]): Promise<number> {
  const { values: v, help } = parseCommand(spec, argv);
  if (help) {
    console.log(helpText(spec));
    return 0;
  }
  loadDotEnv();
  const natsUrl = requiredEnv('worker', ['NATS_URL']);
  const databaseUrl = requiredEnv('worker', ['DATABASE_URL']);
  // The gateway verified each webhook; the worker joins with the credentials of the app that signed it.
  const config = configFromFile('worker', v.config);
  const apps = config.apps.length ? resolveApps(config) : undefined;
  const { clientId, clientSecret } = apps ? { clientId: undefined, clientSecret: undefined } : rtmsCredentials('worker');
  const maxStreams = intFlag('max-streams', v['max-streams'] ?? process.env.OPENRTMS_MAX_STREAMS ?? '200', { min: 1, max: 100_000 });
  const id = String(v.id ?? process.env.OPENRTMS_WORKER_ID ?? `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_-]/g, '_'));
  if (!WORKER_ID.test(id)) throw new UsageError(`worker: --id must be 1-64 letters, digits, "_" or "-", got "${id}"`);
  const port = v.port === undefined ? undefined : intFlag('port', v.port, { max: 65535 });
  const host = String(v.host);
  const apiToken = port === undefined ? undefined : apiTokenFor('worker', host);
  const dataDir = resolve(String(v['data-dir'] ?? process.env.OPENRTMS_DATA_DIR ?? './data'));
  const media = mediaFromEnv('worker');
  const wakeCoalescingMs = wakeCoalescingFromEnv('worker');
  const logger = commandLogger('worker');
  mkdirSync(dataDir, { recursive: true });

  const cluster = await clusterFromEnv('worker', `openrtms-worker-${id}`);
  let store;
  try {
    store = await openStore({ dataDir, databaseUrl });
  } catch (err) {
    await cluster.close();
    throw new UsageError(`worker: ${(err as Error).message}`);
  }
  let worker: ClusterWorker | undefined;
  const runtime = createRuntime({
    clientId,
    clientSecret,
    ...(apps ? { apps } : {}),
    // A worker receives no webhooks: its HTTP app (with --port) serves health, metrics and the API only.
    secretToken: '',
    webhookPath: '/webhook',
    store,
    dataDir,
    apiToken,
    logger,
    // Each worker delivers the events of the streams it owns, from its own outbox under its data dir.
    destinations: config.destinations,
    transcription: config.transcription,
    // Notes and summaries of the streams it owns. A handover cannot be told from an end here: the owner
    // that lets go summarises what was said so far; the next continues the notes and summarises the whole stored meeting.
    intelligence: config.intelligence,
    // A killed worker loses what it has not written: transcript and chat go to the store at once.
    storeSink: { flushIntervalMs: 50, maxBatch: 1 },
    recorderFlushMs: 200,
    wakeCoalescingMs,
    ...(media ? { client: { media } } : {}),
    onStreamClosed: (info, closed) => worker?.onStreamClosed(info, closed),
  });
  worker = new ClusterWorker({
    cluster,
    registry: runtime.registry,
    id,
    maxStreams,
    logger,
    finalizeRecording: closeOrphanedStream(dataDir, store),
  });
  const stopRelay = publishLiveFeed(runtime.bus, cluster);
  await worker.start();
  // Every worker may sweep; the store's lease lets one at a time, once a day for the whole cluster.
  const retention = config.retention ? new RetentionSweeper({ config: config.retention, store, deleter: runtime.deleter, holder: `worker-${id}`, logger }) : undefined;
  retention?.start();
  let where = '';
  if (port !== undefined) {
    const { url } = await runtime.app.listen(port, host);
    where = ` · health and metrics ${url}/metrics`;
  }
  console.log(`openrtms worker ${id}: cluster "${cluster.names.prefix}" at ${natsUrl} · up to ${maxStreams} streams · store ${store.kind} · recordings ${dataDir}${where}`);
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', resolveStop);
    process.once('SIGTERM', resolveStop);
  });
  console.log(`stopping: handing ${worker.load} stream(s) over to the other workers…`);
  await retention?.stop();
  await worker.stop();
  stopRelay();
  await runtime.shutdown();
  await cluster.close();
  console.log('stopped.');
  return 0;
}
