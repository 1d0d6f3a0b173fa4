/**
 * Prometheus metrics of a running server, in a registry of their own (nothing global): active
 * streams, frames and bytes per media kind, decode errors, reconnects by reason, keep-alive answers,
 * sink queue depth and drops, webhook answer time, event-loop lag, plus Node's default process
 * metrics. Hot-path counting is plain number increments; prom-client objects are only touched
 * when /metrics is scraped.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LiveBus } from '../live/bus.js';

export const MEDIA_KINDS = ['audio', 'video', 'deskshare', 'transcript', 'chat'] as const;
export type MetricKind = (typeof MEDIA_KINDS)[number];

/** What metrics reads from the stream registry (StreamRegistry satisfies it). */
export interface StreamSource {
  readonly active: number;
  list(): { rtmsStreamId: string }[];
  get(id: string): { client: { stats: { keepAlivesAnswered: number } } } | undefined;
}

export interface MetricsOptions {
  /** Active streams and keep-alive answers are read from it at scrape time. */
  streams?: StreamSource;
  /** Live-feed subscribers, queue depth and drops are read from it at scrape time. */
  bus?: LiveBus;
  /** Node's default process metrics (CPU, memory, GC, handles). Default true. */
  defaultMetrics?: boolean;
}

type Tally = Record<MetricKind, number>;
const zero = (): Tally => ({ audio: 0, video: 0, deskshare: 0, transcript: 0, chat: 0 });

/** Adds `counter` the difference between `total` and what it showed last time (monotonic sync). */
function syncCounter(counter: Counter<string>, shown: Map<string, number>, key: string, labels: Record<string, string>, total: number): void {
  const before = shown.get(key) ?? 0;
  if (total > before) {
    counter.inc(labels, total - before);
    shown.set(key, total);
  }
}

export class OpenRtmsMetrics {
  /** The registry served at /metrics. */
  readonly register = new Registry();
  /** Frames per kind, incremented by MetricsSink (plain numbers: no allocation per frame). */
  readonly frames: Tally = zero();
  readonly bytes: Tally = zero();
  #decodeErrors = new Map<string, number>();
  #reconnects = new Map<string, number>();
  #closes = new Map<string, number>();
  #sinkDrops = new Map<string, number>();
  #queues = new Map<string, () => number>();
  #keepAlives = 0;
  #sinkStreams = 0;
  #loop: IntervalHistogram;
  #webhook: Histogram<'status'>;
  #o: MetricsOptions;

  constructor(options: MetricsOptions = {}) {
    this.#o = options;
    const r = this.register;
    const self = this;
    const shown = new Map<string, number>();
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: r });

    new Gauge({
      name: 'openrtms_active_streams',
      help: 'RTMS streams being received now',
      registers: [r],
      collect() {
        this.set(self.#o.streams ? self.#o.streams.active : self.#sinkStreams);
      },
    });
    new Counter({
      name: 'openrtms_frames_total',
      help: 'Media frames and messages received, by kind',
      labelNames: ['kind'],
      registers: [r],
      collect() {
        for (const k of MEDIA_KINDS) syncCounter(this, shown, `f:${k}`, { kind: k }, self.frames[k]);
      },
    });
    new Counter({
      name: 'openrtms_bytes_total',
      help: 'Payload bytes received, by kind',
      labelNames: ['kind'],
      registers: [r],
      collect() {
        for (const k of MEDIA_KINDS) syncCounter(this, shown, `b:${k}`, { kind: k }, self.bytes[k]);
      },
    });
    new Counter({
      name: 'openrtms_decode_errors_total',
      help: 'Frames that could not be decoded, by kind',
      labelNames: ['kind'],
      registers: [r],
      collect() {
        for (const [k, v] of self.#decodeErrors) syncCounter(this, shown, `d:${k}`, { kind: k }, v);
      },
    });
    new Counter({
      name: 'openrtms_reconnects_total',
      help: 'Client reconnect attempts, by reason (error code)',
      labelNames: ['reason'],
      registers: [r],
      collect() {
        for (const [k, v] of self.#reconnects) syncCounter(this, shown, `r:${k}`, { reason: k }, v);
      },
    });
    new Counter({
      name: 'openrtms_streams_closed_total',
      help: 'Streams that ended, by close reason',
      labelNames: ['reason'],
      registers: [r],
      collect() {
        for (const [k, v] of self.#closes) syncCounter(this, shown, `c:${k}`, { reason: k }, v);
      },
    });
    new Counter({
      name: 'openrtms_keepalive_answers_total',
      help: 'Keep-alive requests answered (signaling and media)',
      registers: [r],
      collect() {
        let total = self.#keepAlives;
        const s = self.#o.streams;
        if (s) for (const { rtmsStreamId } of s.list()) total += s.get(rtmsStreamId)?.client.stats.keepAlivesAnswered ?? 0;
        syncCounter(this, shown, 'k', {}, total);
      },
    });
    new Gauge({
      name: 'openrtms_sink_queue_depth',
      help: 'Items waiting in sink queues, by sink',
      labelNames: ['sink'],
      registers: [r],
      collect() {
        this.reset();
        if (self.#o.bus) this.set({ sink: 'live' }, self.#o.bus.stats.queued);
        for (const [name, depth] of self.#queues) this.set({ sink: name }, depth());
      },
    });
    new Counter({
      name: 'openrtms_sink_dropped_total',
      help: 'Items a sink dropped because its consumer was too slow, by sink',
      labelNames: ['sink'],
      registers: [r],
      collect() {
        if (self.#o.bus) syncCounter(this, shown, 's:live', { sink: 'live' }, self.#o.bus.stats.dropped);
        for (const [k, v] of self.#sinkDrops) syncCounter(this, shown, `s:${k}`, { sink: k }, v);
      },
    });
    new Gauge({
      name: 'openrtms_live_subscribers',
      help: 'Live feed subscribers (WebSocket, SSE, in-process)',
      registers: [r],
      collect() {
        this.set(self.#o.bus?.stats.subscribers ?? 0);
      },
    });
    new Counter({
      name: 'openrtms_live_messages_total',
      help: 'Messages published on the live feed',
      registers: [r],
      collect() {
        syncCounter(this, shown, 'lm', {}, self.#o.bus?.stats.published ?? 0);
      },
    });
    this.#webhook = new Histogram({
      name: 'openrtms_webhook_latency_seconds',
      help: 'Time from a webhook request to its answer',
      labelNames: ['status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [r],
    });
    this.#loop = monitorEventLoopDelay({ resolution: 10 });
    this.#loop.enable();
    const loop = this.#loop;
    new Gauge({
      name: 'openrtms_event_loop_lag_seconds',
      help: 'Event-loop delay since the previous scrape',
      labelNames: ['quantile'],
      registers: [r],
      collect() {
        const s = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
        this.set({ quantile: '0.5' }, s(loop.percentile(50)));
        this.set({ quantile: '0.99' }, s(loop.percentile(99)));
        this.set({ quantile: '1' }, s(loop.max));
        loop.reset();
      },
    });
  }

  /** Records one webhook answer (`AppOptions.onWebhookAnswered` has this shape). */
  observeWebhook = (ms: number, status: number): void => {
    this.#webhook.observe({ status: String(status) }, ms / 1000);
  };
  /** Counts a frame that could not be decoded. */
  decodeError = (kind: string = 'audio'): void => {
    this.#decodeErrors.set(kind, (this.#decodeErrors.get(kind) ?? 0) + 1);
  };
  /** Counts a reconnect attempt. */
  reconnect(reason: string): void {
    this.#reconnects.set(reason, (this.#reconnects.get(reason) ?? 0) + 1);
  }
  /** Counts a stream that ended. */
  streamClosed(reason: string): void {
    this.#closes.set(reason, (this.#closes.get(reason) ?? 0) + 1);
  }
  /** Counts keep-alives answered (when no `streams` source reports them). */
  keepAliveAnswered(n = 1): void {
    this.#keepAlives += n;
  }
  /** Counts items a sink dropped. */
  sinkDropped(sink: string, n = 1): void {
    this.#sinkDrops.set(sink, (this.#sinkDrops.get(sink) ?? 0) + n);
  }
  /** Reports a sink's queue depth at each scrape. */
  registerQueue(sink: string, depth: () => number): void {
    this.#queues.set(sink, depth);
  }
  /** @internal MetricsSink bookkeeping. */
  _streamOpened(): void {
    this.#sinkStreams++;
  }
  /** @internal */
  _streamClosed(): void {
    this.#sinkStreams--;
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.register.metrics();
  }
  get contentType(): string {
    return this.register.contentType;
  }

  /** Stops the event-loop monitor. Idempotent. */
  close(): void {
    this.#loop.disable();
  }
}
