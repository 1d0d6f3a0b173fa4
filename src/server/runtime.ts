/**
 * Wires a running server: store → registry (client + sinks per stream) → webhook handler → HTTP app.
 * Shared by `serve` and `demo` so both run exactly the same pipeline.
 */
import { coalesceWakeups } from '../util/wake-coalescing.js';
import type { ClosedEvent, RtmsClientOptions } from '../client/types.js';
import type { StreamInfo, StreamSink } from '../pipeline/types.js';
import { StreamRegistry, type RegistryLogger } from '../sessions/registry.js';
import type { Store } from '../store/types.js';
import { StoreSink, type StoreSinkOptions } from '../store/sink.js';
import type { StreamEvent } from '../webhook/handler.js';
import type { LiveStreams } from './api.js';
import type { StreamSource } from '../metrics/metrics.js';
import { Recorder } from '../recorder/recorder.js';
import { createWebhookHandler } from '../webhook/handler.js';
import { createApp, type App } from './app.js';
import { LiveBus } from '../live/bus.js';
import { LiveSink } from '../live/sink.js';
import { ThumbnailStore } from '../live/thumbnails.js';
import { LiveMediaHub } from '../live/media.js';
import { OpenRtmsMetrics } from '../metrics/metrics.js';
import { MetricsSink } from '../metrics/sink.js';
import { createWebApp, type WebApp } from './web.js';
import { AlertLog } from '../alerts/log.js';
import { appFor, type AppConfig } from '../config/index.js';
import type { StreamControl } from '../control/plugin.js';
import { DeliveryHub } from '../delivery/hub.js';
import type { DestinationConfig } from '../delivery/types.js';
import type { WebhookTuning } from '../delivery/webhook.js';
import { ConfigError } from '../errors.js';

export interface RuntimeOptions {
  /** The one app's credentials (demo, bench, the env shortcut). Ignored when `apps` is given. */
  clientId?: string;
  clientSecret?: string;
  secretToken?: string;
  /**
   * Several apps (config file + env default app): a webhook is verified against each app's secret
   * token and its stream joined with the credentials of the app that signed it.
   */
  apps?: AppConfig[];
  /** Zoom's REST API for `POST /api/control` (start/stop/pause/resume); the route answers 503 without it. */
  control?: StreamControl;
  webhookPath: string;
  store: Store;
  /** Where recordings go (`<dataDir>/recordings/<stream>/`); no recording without it. */
  dataDir?: string;
  apiToken?: string;
  client?: Omit<RtmsClientOptions, 'clientId' | 'clientSecret'>;
  /** More sinks per stream, after the store's (live feed, metrics, benchmarks...). */
  extraSinks?: (info: StreamInfo) => StreamSink[];
  logger?: RegistryLogger;
  /** Options of each stream's StoreSink (a cluster worker flushes transcript and chat at once). */
  storeSink?: Omit<StoreSinkOptions, 'logger'>;
  /** Audio write period of each stream's recorder (default 500 ms). */
  recorderFlushMs?: number;
  /** Told when a stream's client closes for good (a cluster worker updates the cluster). */
  onStreamClosed?: (info: StreamInfo, closed: ClosedEvent) => void;
  /**
   * Cluster gateway mode: verified webhooks go to `enqueue` (JetStream) instead of a local client,
   * and the API, dashboard and metrics show the cluster's streams from `streams`.
   */
  gateway?: { enqueue(event: StreamEvent): Promise<unknown>; streams: LiveStreams & StreamSource };
  /**
   * Wake-up coalescing period for the process while this runtime runs (see util/wake-coalescing.ts);
   * 0 or absent: off. `serve` and `worker` turn it on; a process that also runs the emulator should not.
   */
  wakeCoalescingMs?: number;
  /** The config file's destinations (webhooks, object storage, RTMP); they need `dataDir` (the outbox lives there). */
  destinations?: DestinationConfig[];
  /** Retry timing of webhook destinations (tests shorten it). */
  deliveryTuning?: WebhookTuning;
}

export interface Runtime {
  app: App;
  /** The live feed every stream publishes to (transcript, chat, participants, levels, thumbnails...). */
  bus: LiveBus;
  /** Live picture and sound for viewers (the dashboard's player, `/api/live/media`). */
  media: LiveMediaHub;
  metrics: OpenRtmsMetrics;
  web: WebApp;
  registry: StreamRegistry;
  store: Store;
  /** Coded alerts with guidance (Zoom's alert webhooks, handshake failures), also at GET /api/alerts. */
  alerts: AlertLog;
  /** The destinations of the config file (none: an empty hub). */
  delivery: DeliveryHub;
  /** Leaves every stream, flushes every sink, closes the HTTP server and the store (≤ 10 s). */
  shutdown(): Promise<void>;
}

export function createRuntime(o: RuntimeOptions): Runtime {
  const bus = new LiveBus();
  const thumbnails = new ThumbnailStore();
  const media = new LiveMediaHub();
  const apps = o.apps;
  /** Which app each stream was joined with, for alerts. */
  const streamApps = new Map<string, string>();
  const registry: StreamRegistry = new StreamRegistry({
    client: { ...o.client, clientId: o.clientId, clientSecret: o.clientSecret },
    ...(apps
      ? {
          credentialsFor: (event: StreamEvent) => {
            // The app that signed the webhook; a replayed event (cluster takeover) may only know its product.
            const app = (event.app !== undefined && apps.find((a) => a.name === event.app)) || appFor(apps, event.product);
            if (!app) return undefined;
            streamApps.set(event.rtmsStreamId, app.name);
            return { clientId: app.clientId, clientSecret: app.clientSecret };
          },
        }
      : {}),
    sinks: (info) => [
      new StoreSink(o.store, info, { ...o.storeSink, logger: o.logger }),
      ...(o.dataDir ? [new Recorder({ dataDir: o.dataDir, info, flushMs: o.recorderFlushMs })] : []),
      new LiveSink(bus, info, { thumbnails, onDecodeError: () => metrics.decodeError('audio') }),
      new MetricsSink(metrics),
      media.sinkFor(info),
      ...delivery.sinksFor(info),
      ...(o.extraSinks?.(info) ?? []),
    ],
    logger: o.logger,
    onClosed: (info, closed) => {
      // A handshake the RTMS server refused becomes an alert that says how to fix it.
      if (closed.error) alerts.fromHandshake({ ...info, app: streamApps.get(info.rtmsStreamId) }, closed.error);
      streamApps.delete(info.rtmsStreamId);
      o.onStreamClosed?.(info, closed);
    },
    // The recording is flushed: upload it, announce recording.ready.
    onPipelineClosed: (info) => delivery.pipelineClosed(info),
  });
  const metrics = new OpenRtmsMetrics({ bus, streams: o.gateway?.streams ?? registry });
  if (o.destinations?.length && !o.dataDir) throw new ConfigError('CONFIG_MISSING', 'destinations need a data directory (their outbox is kept there)');
  const delivery = new DeliveryHub({ destinations: o.destinations ?? [], dataDir: o.dataDir ?? '', logger: o.logger, register: metrics.register, webhook: o.deliveryTuning });
  void delivery.start().catch((err: Error) => o.logger?.warn({ err: err.message }, 'a destination could not start'));
  const alerts = new AlertLog({ logger: o.logger, register: metrics.register, onAlert: (a) => delivery.alert(a) });
  let web: WebApp | undefined;
  const app = createApp({
    webhookPath: o.webhookPath,
    webhook: createWebhookHandler({ ...(apps ? { apps } : { secretToken: o.secretToken }), ...(o.gateway ? { ledger: false } : {}) }),
    onAlert: (a) => alerts.fromWebhook(a.event, a.kind, a.payload, apps ? a.app : undefined, a.product, a.message),
    registry,
    enqueue: o.gateway?.enqueue,
    logger: o.logger,
    onWebhookAnswered: metrics.observeWebhook,
    web: (req, res) => web!.handle(req, res),
  });
  // A viewer's choice of participant becomes the stream's VIDEO_SUBSCRIPTION_REQ (null: back to the active speaker).
  const chosen = new Map<string, string>();
  media.setVideoRequester(async (streamId, userId) => {
    const client = registry.get(streamId)?.client;
    if (!client) throw new Error(`stream ${streamId} has no live client on this server`);
    const previous = chosen.get(streamId);
    const asId = (u: string) => (/^\d+$/.test(u) ? Number(u) : u);
    const resp = userId !== null ? await client.subscribeVideo(asId(userId), true) : previous !== undefined ? await client.subscribeVideo(asId(previous), false) : undefined;
    if (resp && resp.status_code !== undefined && resp.status_code !== 0) throw new Error(`Zoom refused the video subscription (status ${resp.status_code}${resp.reason ? `: ${resp.reason}` : ''})`);
    if (userId === null) chosen.delete(streamId);
    else chosen.set(streamId, userId);
  });
  web = createWebApp({ server: app.server, store: o.store, bus, registry: o.gateway?.streams ?? registry, metrics, thumbnails, media, dataDir: o.dataDir, apiToken: o.apiToken, alerts, control: o.control, delivery });
  const stopCoalescing = coalesceWakeups(o.wakeCoalescingMs ?? 0);
  let stopping: Promise<void> | undefined;
  return {
    app,
    bus,
    media,
    metrics,
    web,
    registry,
    store: o.store,
    alerts,
    delivery,
    shutdown() {
      stopping ??= (async () => {
        await registry.shutdown(9_000);
        // What is still queued stays in the outbox, sent on the next start.
        await delivery.close();
        await web!.close();
        await app.close();
        metrics.close();
        bus.close();
        await o.store.close();
        stopCoalescing();
      })();
      return stopping;
    },
  };
}
