/**
 * StreamRegistry: exactly one RtmsClient per rtms_stream_id, driven by webhook events. It owns
 * each client and its pipeline of sinks; a stop webhook ends both, and `shutdown()` leaves every
 * stream gracefully (STREAM_CLOSE_REQ) and flushes every sink within a deadline.
 */
import { RtmsClient } from '../client/client.js';
import type { ClientState, ClosedEvent, RtmsClientOptions } from '../client/types.js';
import { InvalidStateError } from '../errors.js';
import { attachPipeline, type PipelineHandle } from '../pipeline/pipeline.js';
import type { StreamInfo, StreamSink } from '../pipeline/types.js';
import type { StreamEvent } from '../webhook/handler.js';

export interface RegistryLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface RegistryOptions {
  client: RtmsClientOptions;
  /** Per-stream app credentials (several apps on one server); `client`'s are used when absent or undefined. */
  credentialsFor?: (event: StreamEvent) => { clientId: string; clientSecret: string } | undefined;
  /** Creates the sinks of a new stream (recorder, store, live...). */
  sinks: (info: StreamInfo) => StreamSink[];
  logger?: RegistryLogger;
  /** Told when a stream's client closes for good (Zoom ended it, kicked, gave up, or we closed it). */
  onClosed?: (info: StreamInfo, closed: ClosedEvent) => void;
  /**
   * Told once a closed stream's pipeline has finished closing (every sink flushed: the recording is
   * complete on disk). Not called for a stream released to another process (cluster handover).
   */
  onPipelineClosed?: (info: StreamInfo) => void;
  /** How long a closed stream stays listed before it is forgotten. Default 10 min. */
  keepClosedMs?: number;
}

/** Options of {@link StreamRegistry.start} beyond the webhook event. */
export interface StartOptions {
  /** When the stream started, if known from earlier (cluster failover). Default now. */
  startedAt?: number;
  /** Continue an existing recording of this stream (see {@link StreamInfo.resume}). */
  resume?: boolean;
}

export interface StreamEntry {
  info: StreamInfo;
  client: RtmsClient;
  pipeline: PipelineHandle;
  /** Participants present now (from join/leave events). */
  participants: Map<number | string, string>;
  closed?: ClosedEvent;
}

export interface StreamStatus {
  rtmsStreamId: string;
  product: string;
  meetingUuid: string;
  startedAt: number;
  state: ClientState;
  closeReason?: string;
  participants: number;
  frames: RtmsClient['stats']['frames'];
  reconnects: number;
}

type RegistryState = 'running' | 'shutting-down' | 'stopped';

export class StreamRegistry {
  #streams = new Map<string, StreamEntry>();
  #state: RegistryState = 'running';
  #shutdown?: Promise<void>;

  constructor(private readonly opts: RegistryOptions) {}

  get state(): RegistryState {
    return this.#state;
  }

  /**
   * Acts on a verified, de-duplicated webhook event, as Zoom's "Failover and reconnection" asks:
   * a start joins (or, for a live stream with new `server_urls`, moves the client to the new
   * server), an interruption re-opens both connections now, a stop ends the stream.
   */
  handle(event: StreamEvent): void {
    if (this.#state !== 'running') throw new InvalidStateError(`registry is ${this.#state}; no new streams`);
    if (event.lifecycle === 'started') {
      if (event.failover) this.failover(event.rtmsStreamId, event.payload.server_urls!) || this.start(event, { resume: true });
      else this.start(event);
    } else if (event.lifecycle === 'stopped') void this.stop(event.rtmsStreamId, 'stop webhook');
    else this.interrupted(event);
  }

  /**
   * RTMS server failure: Zoom sent a new start with new `server_urls` for a stream we hold. The
   * client drops both sockets and connects to the new server at once. False when no live client holds it.
   */
  failover(rtmsStreamId: string, serverUrls: string): boolean {
    const entry = this.#streams.get(rtmsStreamId);
    if (!entry || entry.closed) return false;
    this.opts.logger?.warn({ streamId: rtmsStreamId }, 'RTMS server failover: reconnecting to the new server');
    return entry.client.reconnect('server-failover', serverUrls);
  }

  /**
   * `*.rtms_interrupted`: the server ended both connections and waits (~60 s) for the app. A client
   * that is already back (ready) is left alone; one waiting out a backoff reconnects now. A stream
   * whose client gave up is joined again, continuing its recording.
   */
  interrupted(event: StreamEvent): void {
    const entry = this.#streams.get(event.rtmsStreamId);
    if (entry && !entry.closed) {
      if (entry.client.state === 'ready') return this.opts.logger?.info({ streamId: event.rtmsStreamId }, 'stream interrupted; the client is already back');
      this.opts.logger?.warn({ streamId: event.rtmsStreamId }, 'stream interrupted: reconnecting now');
      entry.client.reconnect('interrupted', event.payload.server_urls);
      return;
    }
    if (entry?.closed && entry.closed.reason !== 'reconnect-exhausted') return; // ended for good
    if (!event.payload.server_urls) return this.opts.logger?.warn({ streamId: event.rtmsStreamId }, 'stream interrupted but not held here and no server_urls to join');
    this.opts.logger?.warn({ streamId: event.rtmsStreamId }, 'stream interrupted and not held: joining it again');
    this.start(event, { resume: !!entry });
  }

  get(rtmsStreamId: string): StreamEntry | undefined {
    return this.#streams.get(rtmsStreamId);
  }

  list(): StreamStatus[] {
    return [...this.#streams.values()].map((e) => ({
      rtmsStreamId: e.info.rtmsStreamId,
      product: e.info.product,
      meetingUuid: e.info.meetingUuid,
      startedAt: e.info.startedAt,
      state: e.client.state,
      closeReason: e.closed?.reason,
      participants: e.participants.size,
      frames: { ...e.client.stats.frames },
      reconnects: e.client.stats.reconnects,
    }));
  }

  /**
   * Forgets a closed stream at once instead of after `keepClosedMs` (the stream was deleted): 1 when
   * there was one. A stream still open is kept (0): it is never forgotten while a client holds it.
   */
  forget(rtmsStreamId: string): number {
    const entry = this.#streams.get(rtmsStreamId);
    if (!entry?.closed) return 0;
    this.#streams.delete(rtmsStreamId);
    return 1;
  }

  /** Resolves once a stream's sinks have flushed (its recording is complete on disk); at once for an unknown stream. */
  async settled(rtmsStreamId: string): Promise<void> {
    const entry = this.#streams.get(rtmsStreamId);
    if (entry?.closed) await entry.pipeline.close();
  }

  /** Live streams (not yet closed). */
  get active(): number {
    let n = 0;
    for (const e of this.#streams.values()) if (!e.closed) n++;
    return n;
  }

  /** Leaves every stream and flushes every sink; bounded by `timeoutMs`. Idempotent. */
  shutdown(timeoutMs = 10_000): Promise<void> {
    this.#shutdown ??= (async () => {
      this.#state = 'shutting-down';
      const all = [...this.#streams.values()].map(async (e) => {
        if (!e.closed && e.client.state !== 'idle') await e.client.leave().catch(() => e.client.close());
        await e.pipeline.close();
      });
      await Promise.race([Promise.allSettled(all), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
      for (const e of this.#streams.values()) await e.client.close();
      this.#state = 'stopped';
    })();
    return this.#shutdown;
  }

  /** Joins a stream and attaches its sinks; a stream already held is left alone (one client per stream). */
  start(event: StreamEvent, options: StartOptions = {}): void {
    if (this.#state !== 'running') throw new InvalidStateError(`registry is ${this.#state}; no new streams`);
    const existing = this.#streams.get(event.rtmsStreamId);
    if (existing && !existing.closed) return; // exactly one client per stream
    if (existing) options = { ...options, resume: true }; // Zoom restarted a stream we recorded: continue it
    const info: StreamInfo = {
      rtmsStreamId: event.rtmsStreamId,
      product: event.product,
      meetingUuid: event.meetingUuid,
      operatorId: event.payload.operator_id,
      startedAt: options.startedAt ?? Date.now(),
      ...(options.resume ? { resume: true } : {}),
    };
    const client = new RtmsClient({ ...this.opts.client, ...this.opts.credentialsFor?.(event) });
    const pipeline = attachPipeline(client, info, this.opts.sinks(info), (i, err) =>
      // Sinks report their own failures too (a full disk is a RecordingError): say which, neutrally.
      this.opts.logger?.warn({ streamId: info.rtmsStreamId, sink: i, code: (err as { code?: string })?.code, err: (err as Error)?.message }, 'sink reported an error; the stream and the other sinks continue'),
    );
    const entry: StreamEntry = { info, client, pipeline, participants: new Map() };
    client.on('participant', (p) => {
      for (const who of p.participants) {
        if (p.action === 'join') entry.participants.set(who.userId, who.userName);
        else entry.participants.delete(who.userId);
      }
    });
    this.#streams.set(info.rtmsStreamId, entry);
    client.on('closed', (e) => {
      entry.closed = e;
      this.opts.logger?.info({ streamId: info.rtmsStreamId, reason: e.reason, code: e.error?.code }, 'stream closed');
      const handedOver = this.#streams.get(info.rtmsStreamId) !== entry; // release() forgot it first
      void pipeline.close().then(() => {
        if (!handedOver) this.opts.onPipelineClosed?.(info);
      });
      this.opts.onClosed?.(info, e);
      setTimeout(() => {
        if (this.#streams.get(info.rtmsStreamId) === entry) this.#streams.delete(info.rtmsStreamId);
      }, this.opts.keepClosedMs ?? 600_000).unref();
    });
    client.on('reconnecting', (r) => this.opts.logger?.warn({ streamId: info.rtmsStreamId, attempt: r.attempt, code: r.error.code }, 'reconnecting'));
    this.opts.logger?.info({ streamId: info.rtmsStreamId, product: info.product }, 'joining stream');
    client.join({ product: info.product, meetingUuid: info.meetingUuid, rtmsStreamId: info.rtmsStreamId, serverUrls: event.payload.server_urls! }).catch((err: Error) => {
      this.opts.logger?.warn({ streamId: info.rtmsStreamId, err: err.message }, 'join failed');
    });
  }

  /**
   * Lets go of a stream without ending it for Zoom (no STREAM_CLOSE_REQ): sockets closed, sinks
   * flushed, entry forgotten, so another process can take it over (cluster handover).
   */
  async release(rtmsStreamId: string): Promise<void> {
    const entry = this.#streams.get(rtmsStreamId);
    if (!entry) return;
    this.#streams.delete(rtmsStreamId);
    await entry.client.close();
    await entry.pipeline.close();
  }

  /** Ends a stream Zoom has stopped (stop webhook): closes the client and flushes the sinks. */
  async stop(rtmsStreamId: string, why: string): Promise<void> {
    const entry = this.#streams.get(rtmsStreamId);
    if (!entry || entry.closed) return;
    this.opts.logger?.info({ streamId: rtmsStreamId, why }, 'stopping stream');
    // A client already ending (Zoom said TERMINATED; it is reading the last media) finishes by itself.
    if (entry.client.state === 'closing') await Promise.race([entry.client.whenClosed(), new Promise((r) => setTimeout(r, 2000))]);
    await entry.client.close();
    await entry.pipeline.close();
  }
}
