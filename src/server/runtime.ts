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
import { DataOption } from '../protocol/index.js';
import { Transcription } from '../intelligence/stt/transcription.js';
import { transcriptionMatches, type TranscriptionConfig } from '../intelligence/stt/config.js';
import type { STT_PROVIDERS } from '../intelligence/stt/providers.js';
import { Intelligence } from '../intelligence/service.js';
import type { IntelligenceConfig } from '../intelligence/types.js';
import { StreamDeleter, type StreamCache } from '../deletion/deleter.js';

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
  /** The config file's speech-to-text providers: each makes a second transcript track per matching stream. */
  transcription?: TranscriptionConfig[];
  /** Tests: adapter factories and reconnect timing of the speech-to-text providers. */
  transcriptionTuning?: { providers?: typeof STT_PROVIDERS; backoffMs?: number; finishTimeoutMs?: number };
  /** The config file's `intelligence` entry: LLM notes and summaries per stream, MCP `ask`. Nothing is sent without it. */
  intelligence?: IntelligenceConfig;
  /** Cluster gateway: what else caches a deleted stream (the cluster's stream records). */
  deletionCaches?: StreamCache[];
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
  /** The config file's speech-to-text providers (undefined when none is configured). */
  transcription?: Transcription;
  /** The configured LLM (absent without an `intelligence` entry). */
  intelligence?: Intelligence;
  /** Deletes a stream everywhere (DELETE /api/streams/:id, retention). */
  deleter: StreamDeleter;
  /** Leaves every stream, flushes every sink, closes the HTTP server and the store (≤ 10 s). */
  shutdown(): Promise<void>;
}

/**
 * A `per-speaker` transcription entry needs Zoom's audio per participant (AUDIO_MULTI_STREAMS): the
 * client asks for it unless the audio parameters were set explicitly.
 */
function withSpeakerAudio(client: RuntimeOptions['client'], entries: TranscriptionConfig[] | undefined): RuntimeOptions['client'] {
  if (!entries?.some((c) => c.audio === 'per-speaker') || client?.audio?.data_opt !== undefined) return client;
  return { ...client, audio: { ...client?.audio, data_opt: DataOption.AUDIO_MULTI_STREAMS } };
}

export function createRuntime(o: RuntimeOptions): Runtime {
  const bus = new LiveBus();
  const thumbnails = new ThumbnailStore();
  const media = new LiveMediaHub();
  const apps = o.apps;
  /** Which app each stream was joined with, for alerts. */
  const streamApps = new Map<string, string>();
  const registry: StreamRegistry = new StreamRegistry({
    client: { ...withSpeakerAudio(o.client, o.transcription), clientId: o.clientId, clientSecret: o.clientSecret },
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
    sinks: (info) => {
      const recorder = o.dataDir ? new Recorder({ dataDir: o.dataDir, info, flushMs: o.recorderFlushMs }) : undefined;
      const storeSink = new StoreSink(o.store, info, { ...o.storeSink, logger: o.logger });
      return [
        storeSink,
        ...(recorder ? [recorder] : []),
        new LiveSink(bus, info, { thumbnails, onDecodeError: () => metrics.decodeError('audio') }),
        new MetricsSink(metrics),
        media.sinkFor(info),
        ...delivery.sinksFor(info),
        ...(transcription?.sinksFor(info) ?? []),
        // The final summary reads the flushed store; summary.md joins the recording once the recorder
        // has closed it (both close() are idempotent).
        ...(intelligence?.sinksFor(info, { storeFlushed: () => storeSink.close(), ...(recorder ? { recordingClosed: () => recorder.close() } : {}) }) ?? []),
        ...(o.extraSinks?.(info) ?? []),
      ];
    },
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
  const transcription = o.transcription?.length
    ? new Transcription({
        entries: o.transcription,
        logger: o.logger,
        register: metrics.register,
        addStats: (id, stats) => void o.store.addStats(id, stats).catch((err: Error) => o.logger?.warn({ rtmsStreamId: id, err: err.message }, 'speech-to-text figures not stored')),
        ...o.transcriptionTuning,
      })
    : undefined;
  /** The providers transcribing a live stream (their entries match it). */
  const liveSources = (id: string): string[] => {
    const s = registry.list().find((x) => x.rtmsStreamId === id);
    return s ? (o.transcription ?? []).filter((c) => transcriptionMatches(c, s)).map((c) => c.name) : [];
  };
  const intelligence = o.intelligence && new Intelligence({ config: o.intelligence, store: o.store, publish: (m) => bus.publish(m), emit: (e) => delivery.emit(e), register: metrics.register, dataDir: o.dataDir });
  const alerts = new AlertLog({ logger: o.logger, register: metrics.register, onAlert: (a) => delivery.alert(a) });
  const liveSource: LiveStreams = o.gateway?.streams ?? registry;
  const deleter = new StreamDeleter({
    store: o.store,
    dataDir: o.dataDir,
    delivery,
    caches: [thumbnails, alerts, registry, ...(o.deletionCaches ?? [])],
    // Live = a client holds it here or, on a gateway, a worker of the cluster does.
    liveState: (id) => {
      const s = liveSource.list().find((x) => x.rtmsStreamId === id);
      return s && s.state !== 'stopped' && s.state !== 'closed' && !(s as { closeReason?: string }).closeReason ? s.state : undefined;
    },
    settled: (id) => registry.settled(id),
    logger: o.logger,
  });
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
  web = createWebApp({ server: app.server, store: o.store, bus, registry: o.gateway?.streams ?? registry, metrics, thumbnails, media, dataDir: o.dataDir, apiToken: o.apiToken, alerts, control: o.control, delivery, deleter, intelligence, ...(transcription ? { transcriptSources: liveSources } : {}) });
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
    ...(transcription ? { transcription } : {}),
    intelligence,
    deleter,
    shutdown() {
      stopping ??= (async () => {
        await registry.shutdown(9_000);
        // Final summaries of the streams just ended still need the store and the destinations.
        await intelligence?.drain();
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
