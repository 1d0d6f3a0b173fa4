/**
 * DeliveryHub: one per process. Builds the configured destinations, gives each stream its
 * DeliverySink (and the destinations' own live sinks, e.g. RTMP), routes every event to each
 * destination that matches it, and once a stream's pipeline has closed (recording flushed) sends
 * `stream.stopped`, hands the recording to object storage and announces `recording.ready` per file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Alert } from '../alerts/log.js';
import type { StreamInfo, StreamSink } from '../pipeline/types.js';
import type { Product } from '../protocol/index.js';
import { safeName } from '../recorder/paths.js';
import { DESTINATION_FACTORIES, assertDestinationsBuilt, type DestinationDeps, type DestinationFactories, type DestinationFactory } from './factories.js';
import { eventId } from './ids.js';
import { Outbox } from './outbox.js';
import { localRecordingFiles } from './recording.js';
import { DeliverySink, streamOf } from './sink.js';
import type { DeadLetter, DeliveryEvent, DeliveryStream, Destination, DestinationConfig, DestinationStats, DestinationType, UploadedFile } from './types.js';
import type { WebhookTuning } from './webhook.js';

export interface DeliveryHubOptions {
  destinations: readonly DestinationConfig[];
  /** The outbox lives in `<dataDir>/delivery/outbox.db`; recordings are read from `<dataDir>/recordings/`. */
  dataDir: string;
  logger?: DestinationDeps['logger'];
  /** Registers the `openrtms_delivery_*` metrics here. */
  register?: Registry;
  /** Default {@link DESTINATION_FACTORIES}. */
  factories?: DestinationFactories;
  webhook?: WebhookTuning;
}

/** One destination as the API and dashboard show it: never a secret or a credential. */
export interface DestinationView {
  name: string;
  type: DestinationType;
  /** Where it delivers, with credentials and stream keys hidden. */
  target: string;
  stats: DestinationStats;
}

/** Where a destination delivers, safe to show: no userinfo or query string, no RTMP stream key. */
export function describeTarget(c: DestinationConfig): string {
  switch (c.type) {
    case 'webhook': {
      const u = new URL(c.url);
      return `${u.protocol}//${u.host}${u.pathname}`;
    }
    case 'rtmp': {
      // rtmp://host/app/KEY: the key (last path segment) is a secret; so is any userinfo.
      const m = /^(rtmps?:\/\/)(?:[^@/]*@)?([^/]+)\/?(.*)$/.exec(c.url);
      if (!m) return 'rtmp://***';
      const segments = m[3].split('/').filter(Boolean);
      return `${m[1]}${m[2]}/${segments.length > 1 ? `${segments.slice(0, -1).join('/')}/` : ''}***`;
    }
    case 's3':
      return `s3://${c.bucket}/${c.prefix}`;
    case 'azure-blob':
      return `azure-blob://${c.container}/${c.prefix}`;
  }
}

/** How long a closed stream's sink waits for pipelineClosed() before it is forgotten. */
const SINK_FORGET_MS = 10 * 60_000;

export class DeliveryHub {
  readonly destinations: Destination[] = [];
  readonly #configs = new Map<string, DestinationConfig>();
  readonly #jobs = new Set<Promise<void>>();
  /** Each open stream's DeliverySink, until its pipeline has closed. */
  readonly #sinks = new Map<string, DeliverySink>();
  #outbox?: Outbox;
  #closed = false;
  /** Streams deleted while this process runs: a late pipelineClosed() neither uploads nor announces them. */
  readonly #deleted = new Set<string>();

  constructor(private readonly o: DeliveryHubOptions) {
    const factories = o.factories ?? DESTINATION_FACTORIES;
    const deps: DestinationDeps = {
      dataDir: o.dataDir,
      outbox: () => (this.#outbox ??= new Outbox(join(o.dataDir, 'delivery', 'outbox.db'))),
      logger: o.logger,
      webhook: o.webhook,
      onResumedUpload: (destination, recording, files) => this.#announce(recording.info, files, destination),
    };
    assertDestinationsBuilt(o.destinations, factories);
    o.destinations.forEach((c) => {
      const factory = factories[c.type] as DestinationFactory<typeof c.type>;
      this.destinations.push(factory(c as never, deps));
      this.#configs.set(c.name, c);
    });
    if (o.register) this.#registerMetrics(o.register);
  }

  get size(): number {
    return this.destinations.length;
  }

  async start(): Promise<void> {
    await Promise.all(this.destinations.map((d) => d.start?.()));
  }

  /** The sinks a new stream gets: its DeliverySink and the live sinks of matching destinations. */
  sinksFor(info: StreamInfo): StreamSink[] {
    if (this.destinations.length === 0) return [];
    const stream = streamOf(info);
    // A stream handed over to another process (cluster) never gets pipelineClosed(): forget its sink later.
    const now = Date.now();
    for (const [id, s] of this.#sinks) if (s.closedAt !== undefined && now - s.closedAt > SINK_FORGET_MS) this.#sinks.delete(id);
    const sink = new DeliverySink(info, (e) => this.emit(e));
    this.#sinks.set(info.rtmsStreamId, sink);
    const sinks: StreamSink[] = [sink];
    for (const d of this.destinations) {
      if (!d.sinkFor || !d.matches(stream)) continue;
      const s = d.sinkFor(info);
      if (s) sinks.push(s);
    }
    return sinks;
  }

  /** Hands an event to every destination that takes it. Never throws into the caller (a sink handler). */
  emit(event: DeliveryEvent): void {
    if (this.#closed) return;
    for (const d of this.destinations) {
      if (!d.deliver || !d.matches(event.stream, event.type)) continue;
      try {
        d.deliver(event);
      } catch (err) {
        this.o.logger?.warn({ destination: d.name, eventId: event.id, err: (err as Error).message }, 'could not queue an event for a destination');
      }
    }
  }

  /** An alert of the runtime's AlertLog, as an `alert` event. */
  alert(a: Alert): void {
    const stream: DeliveryStream = { rtmsStreamId: a.rtmsStreamId ?? '', meetingUuid: a.meetingUuid ?? '', product: (a.product ?? 'meeting') as Product };
    this.emit({
      id: eventId(stream.rtmsStreamId, 'alert', [a.code, a.at, a.event, a.message]),
      type: 'alert',
      createdAt: a.at,
      stream,
      data: { code: a.code, message: a.message, ...(a.event ? { event: a.event } : {}), ...(a.status !== undefined ? { status: a.status } : {}), ...(a.app ? { app: a.app } : {}), guidance: a.guidance },
    });
  }

  /**
   * A stream's pipeline has closed: its recording is complete on disk. Object storage uploads it and
   * `recording.ready` goes out per stored file; without object storage, per local file.
   */
  pipelineClosed(info: StreamInfo): void {
    if (this.#closed || this.destinations.length === 0 || this.#deleted.has(info.rtmsStreamId)) return;
    const sink = this.#sinks.get(info.rtmsStreamId);
    this.#sinks.delete(info.rtmsStreamId);
    // Without its sink (forgotten after a very slow flush) the event is the same: its id depends on the stream only.
    (sink ?? new DeliverySink(info, (e) => this.emit(e))).finish();
    const job = this.#recordingReady(info).catch((err: Error) => this.o.logger?.warn({ streamId: info.rtmsStreamId, err: err.message }, 'recording.ready could not be prepared'));
    this.#jobs.add(job);
    void job.finally(() => this.#jobs.delete(job));
  }

  async #recordingReady(info: StreamInfo): Promise<void> {
    const stream = streamOf(info);
    const dir = join(this.o.dataDir, 'recordings', safeName(info.rtmsStreamId));
    const storage = this.destinations.filter((d) => d.recordingFinished && d.matches(stream));
    if (storage.length === 0) {
      if (this.destinations.some((d) => d.deliver && d.matches(stream, 'recording.ready'))) this.#announce(info, await localRecordingFiles(dir, info.rtmsStreamId));
      return;
    }
    await Promise.all(
      storage.map(async (d) => {
        try {
          this.#announce(info, await d.recordingFinished!({ info, dir }), d.name);
        } catch (err) {
          this.o.logger?.warn({ destination: d.name, streamId: info.rtmsStreamId, err: (err as Error).message }, 'recording upload failed');
        }
      }),
    );
  }

  /** `recording.ready` per file (its id depends on the file and where it is, so a resumed upload never announces twice). */
  #announce(info: StreamInfo, files: UploadedFile[], destination?: string): void {
    const stream = streamOf(info);
    for (const f of files) {
      this.emit({ id: eventId(info.rtmsStreamId, 'recording.ready', [f.path, f.url, f.sha256]), type: 'recording.ready', createdAt: Date.now(), stream, data: { path: f.path, url: f.url, bytes: f.bytes, sha256: f.sha256, ...(destination ? { destination } : {}) } });
    }
  }

  /**
   * Removes what delivery holds of a deleted stream: its outbox rows (pending events are never sent),
   * and per object-storage destination the uploaded objects and the upload journal. With `dryRun`,
   * only counts. Destinations are tried independently; the failures are returned, not thrown.
   */
  async deleteStream(rtmsStreamId: string, dryRun = false): Promise<{ outbox: number; objects: Record<string, number>; journals: number; failed: Record<string, string> }> {
    if (!dryRun) {
      this.#deleted.add(rtmsStreamId);
      if (this.#deleted.size > 10_000) this.#deleted.delete(this.#deleted.values().next().value!);
      this.#sinks.delete(rtmsStreamId);
    }
    // The outbox file may hold rows from when a webhook destination was configured, even if none is now.
    const path = join(this.o.dataDir, 'delivery', 'outbox.db');
    const outbox = this.#outbox ?? (this.o.dataDir && existsSync(path) && !this.#closed ? (this.#outbox = new Outbox(path)) : undefined);
    const out = { outbox: outbox ? (dryRun ? outbox.countStream(rtmsStreamId) : outbox.deleteStream(rtmsStreamId)) : 0, objects: {} as Record<string, number>, journals: 0, failed: {} as Record<string, string> };
    await Promise.all(
      this.destinations.map(async (d) => {
        if (!d.deleteStream) return;
        try {
          const r = await d.deleteStream(rtmsStreamId, dryRun);
          out.objects[d.name] = r.objects;
          out.journals += r.journal;
        } catch (err) {
          out.failed[d.name] = (err as Error).message.split('\n')[0];
        }
      }),
    );
    return out;
  }

  list(): DestinationView[] {
    return this.destinations.map((d) => ({ name: d.name, type: d.type, target: describeTarget(this.#configs.get(d.name)!), stats: d.stats() }));
  }

  /** Dead letters of one destination or of all, each with its destination's name. */
  deadLetters(destination?: string, limit = 100): (DeadLetter & { destination: string })[] {
    return this.destinations.filter((d) => d.deadLetters && (destination === undefined || d.name === destination)).flatMap((d) => d.deadLetters!(limit).map((l) => ({ ...l, destination: d.name })));
  }

  /** Re-queues dead letters; how many per destination. */
  replay(destination?: string, ids?: readonly string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const d of this.destinations) if (d.replay && (destination === undefined || d.name === destination)) out[d.name] = d.replay(ids);
    return out;
  }

  has(name: string): boolean {
    return this.#configs.has(name);
  }

  /** Waits (bounded) for recordings being announced, then closes every destination and the outbox. Idempotent. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#closed) return;
    await Promise.race([Promise.allSettled([...this.#jobs]), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    this.#closed = true;
    await Promise.allSettled(this.destinations.map((d) => d.close()));
    this.#outbox?.close();
  }

  #registerMetrics(register: Registry): void {
    const hub = this;
    const each = (fn: (s: DestinationStats) => number) =>
      function (this: Gauge<'destination'> | Counter<'destination'>) {
        // The destinations keep their own figures; these metrics mirror them at each scrape.
        if (this instanceof Counter) this.reset();
        for (const d of hub.destinations) {
          const v = fn(d.stats());
          if (this instanceof Gauge) this.set({ destination: d.name }, v);
          else this.inc({ destination: d.name }, v);
        }
      };
    const labelNames = ['destination'] as const;
    new Gauge({ name: 'openrtms_delivery_queued', help: 'Events or uploads waiting to be delivered, per destination', labelNames, registers: [register], collect: each((s) => s.queued) });
    new Gauge({ name: 'openrtms_delivery_lag_seconds', help: 'Age of the oldest item still waiting, per destination', labelNames, registers: [register], collect: each((s) => s.lagMs / 1000) });
    new Counter({ name: 'openrtms_delivery_delivered_total', help: 'Events or uploads delivered since start, per destination', labelNames, registers: [register], collect: each((s) => s.delivered) });
    new Counter({ name: 'openrtms_delivery_retried_total', help: 'Failed attempts that will be retried, since start, per destination', labelNames, registers: [register], collect: each((s) => s.retried) });
    new Gauge({ name: 'openrtms_delivery_failed', help: 'Items given up on (dead letters, failed uploads), per destination', labelNames, registers: [register], collect: each((s) => s.failed) });
  }
}
