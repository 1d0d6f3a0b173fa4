/**
 * ClusterWorker: one `openrtms worker` process's part in the cluster.
 *
 * - Applies webhook events from the shared JetStream consumer to the streams bucket (each event is
 *   handled by one worker; a worker dying mid-event leaves it to be redelivered).
 * - Mirrors the streams, leases and workers buckets and, every tick, claims the streams nobody owns
 *   that placement gives it (or, after a delay, any it has room for) with an atomic KV create.
 * - Renews its leases while connected; a worker that dies stops renewing, its leases expire after
 *   the bucket TTL, and the others take its streams over and rejoin them, continuing the recording.
 * - Ends a stream when its record says stopped, and marks it stopped when Zoom ends it.
 * - Closes the recording of a stream that stopped while nobody held it (its owner died first).
 * - After a NATS outage (and when it starts), claims nothing for one lease lifetime, so the owners
 *   (still connected to Zoom) renew first and no stream is taken from a live owner.
 */
import { hostname } from 'node:os';
import { Events, type ConsumerMessages } from 'nats';
import type { ClosedEvent } from '../client/types.js';
import type { StreamInfo } from '../pipeline/types.js';
import type { RegistryLogger, StreamRegistry } from '../sessions/registry.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import type { StreamEvent } from '../webhook/handler.js';
import type { Cluster } from './connection.js';
import { BucketMirror, LEASE_MARGIN_MS, streamsPerWorker } from './mirror.js';
import { placeStreams, rankFor, type WorkerLoad } from './placement.js';
import { decodeRecord, encodeRecord, startEventOf, type LeaseRecord, type StreamRecord, type WorkerRecord } from './records.js';
import { streamKey } from './names.js';

export interface ClusterWorkerOptions {
  cluster: Cluster;
  registry: StreamRegistry;
  /** Unique per process. Default `<hostname>-<pid>`. */
  id?: string;
  /** Most streams this worker holds at once. */
  maxStreams: number;
  logger?: RegistryLogger;
  /** How often unowned streams are looked for. Default 200 ms. */
  tickMs?: number;
  /** Lease renewal and heartbeat period. Default a third of the lease TTL. */
  renewMs?: number;
  /** A stream its placed worker has not claimed after this long may be claimed by any with room. Default 1500 ms. */
  fallbackMs?: number;
  /**
   * Closes the recording of a stream that ended while nobody held it (its owner died and the stop
   * came before a takeover); resolves false if there was nothing to close. One worker runs it per
   * stopped stream, under the stream's lease.
   */
  finalizeRecording?: (record: StreamRecord) => Promise<boolean>;
}

export interface ClaimedEvent {
  rtmsStreamId: string;
  /** True when another worker held it before (its lease expired). */
  takeover: boolean;
  /** ms between the previous owner's last renewal seen here and this claim (takeovers only). */
  silentMs?: number;
}

export interface ClusterWorkerEvents {
  claimed: [ClaimedEvent];
  /** A stream this worker held went to another one (its lease was lost). */
  lost: [{ rtmsStreamId: string }];
  /** A stream this worker held ended (stop webhook, or Zoom ended it). */
  finished: [{ rtmsStreamId: string; cause: string }];
  /** This worker checked a stopped stream's recording; `closed` when it had to close it. */
  finalized: [{ rtmsStreamId: string; closed: boolean }];
}

interface Owned {
  rtmsStreamId: string;
  revision: number;
  /** The signaling URL our client was given, and the interruption it last acted on. */
  serverUrls?: string;
  interruptedAt?: number;
}

/** Client close reasons that are our own doing; anything else means the stream is over. */
const OWN_CLOSE = new Set(['closed', 'left']);
/** How long a stopped stream's record stays in the streams bucket. */
const STOPPED_KEPT_MS = 3600_000;

export class ClusterWorker extends TypedEmitter<ClusterWorkerEvents> {
  readonly id: string;
  readonly #c: Cluster;
  readonly #registry: StreamRegistry;
  readonly #max: number;
  readonly #log?: RegistryLogger;
  readonly #tickMs: number;
  readonly #renewMs: number;
  readonly #fallbackMs: number;
  readonly #records: BucketMirror<StreamRecord>;
  readonly #leases: BucketMirror<LeaseRecord>;
  readonly #workers: BucketMirror<WorkerRecord>;
  readonly #owned = new Map<string, Owned>();
  readonly #claiming = new Set<string>();
  readonly #unownedSince = new Map<string, number>();
  readonly #finalize?: (record: StreamRecord) => Promise<boolean>;
  readonly #finalizing = new Set<string>();
  #accepting = false;
  #graceUntil = 0;
  #timers: NodeJS.Timeout[] = [];
  #messages?: ConsumerMessages;
  #renewing = false;
  #renewal: Promise<void> = Promise.resolve();
  #stopping?: Promise<void>;

  constructor(o: ClusterWorkerOptions) {
    super();
    this.id = o.id ?? `${hostname()}-${process.pid}`;
    this.#c = o.cluster;
    this.#registry = o.registry;
    this.#max = o.maxStreams;
    this.#log = o.logger;
    this.#tickMs = o.tickMs ?? 200;
    this.#finalize = o.finalizeRecording;
    this.#renewMs = o.renewMs ?? Math.max(100, Math.floor(o.cluster.leaseTtlMs / 3));
    this.#fallbackMs = o.fallbackMs ?? 1500;
    this.#records = new BucketMirror(o.cluster.nc, o.cluster.streams);
    this.#leases = new BucketMirror(o.cluster.nc, o.cluster.leases);
    this.#workers = new BucketMirror(o.cluster.nc, o.cluster.workers);
  }

  /** Streams held now. */
  get load(): number {
    return this.#owned.size + this.#claiming.size;
  }

  /** Rtms stream ids held now. */
  owned(): string[] {
    return [...this.#owned.values()].map((o) => o.rtmsStreamId);
  }

  async start(): Promise<void> {
    await Promise.all([this.#records.start(), this.#leases.start(), this.#workers.start()]);
    await this.#heartbeat().catch(() => {});
    this.#accepting = true;
    // Leases seen at start may belong to live owners whose renewals we have not seen yet.
    this.#graceUntil = Date.now() + this.#c.leaseTtlMs;
    void this.#followStatus();
    void this.#consume();
    this.#timers.push(
      setInterval(() => this.#tick(), this.#tickMs),
      setInterval(() => void this.#renew(), this.#renewMs),
      setInterval(() => void this.#forgetStopped(), 60_000),
    );
    for (const t of this.#timers) t.unref();
  }

  /** Called by the registry when a stream's client closed for good. */
  onStreamClosed(info: StreamInfo, closed: ClosedEvent): void {
    const key = streamKey(info.rtmsStreamId);
    const own = this.#owned.get(key);
    if (!own || OWN_CLOSE.has(closed.reason)) return;
    this.#owned.delete(key);
    const cause = closed.reason === 'stream-terminated' && closed.stopReason !== undefined ? `stream-terminated (stop reason ${closed.stopReason})` : closed.reason;
    this.#log?.info({ streamId: info.rtmsStreamId, cause }, 'stream ended; marking it stopped in the cluster');
    void this.#markStopped(key, cause).finally(() => this.#releaseLease(key, own.revision));
    this.emit('finished', { rtmsStreamId: info.rtmsStreamId, cause });
  }

  /**
   * Leaves the cluster: stops taking work, hands every stream over (sockets closed without ending
   * the stream for Zoom, leases deleted so the others claim them at once) and removes the heartbeat.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#accepting = false;
      for (const t of this.#timers) clearInterval(t);
      this.#messages?.stop();
      // Out of placement first (others must not wait for us to claim), and no renewal in flight
      // that would change the lease revisions we are about to delete.
      await this.#renewal;
      await this.#c.workers.delete(this.id).catch(() => {});
      await Promise.all(
        [...this.#owned].map(async ([key, own]) => {
          this.#owned.delete(key);
          await this.#registry.release(own.rtmsStreamId);
          await this.#releaseLease(key, own.revision);
        }),
      );
      this.#records.stop();
      this.#leases.stop();
      this.#workers.stop();
    })();
    return this.#stopping;
  }

  // ---- webhook events -------------------------------------------------------------------------

  async #consume(): Promise<void> {
    const { names } = this.#c;
    while (this.#accepting) {
      try {
        const consumer = await this.#c.js.consumers.get(names.webhookStream, names.webhookConsumer);
        this.#messages = await consumer.consume({ max_messages: 64 });
        for await (const m of this.#messages) {
          try {
            await this.#apply(JSON.parse(m.string()) as StreamEvent);
            m.ack();
          } catch (err) {
            this.#log?.warn({ err: (err as Error).message }, 'webhook event not applied; it will be redelivered');
            m.nak(1000);
          }
        }
      } catch (err) {
        if (this.#accepting) this.#log?.warn({ err: (err as Error).message }, 'webhook consumer interrupted; resuming');
      }
      if (this.#accepting) await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Applies one webhook event to the streams bucket. Idempotent: a redelivery changes nothing. */
  async #apply(e: StreamEvent): Promise<void> {
    const key = streamKey(e.rtmsStreamId);
    const kv = this.#c.streams;
    if (e.lifecycle === 'started') {
      const record: StreamRecord = { rtmsStreamId: e.rtmsStreamId, product: e.product, meetingUuid: e.meetingUuid, operatorId: e.payload.operator_id, event: e.event, payload: e.payload, ...(e.app ? { app: e.app } : {}), startedAt: Date.now(), state: 'active' };
      try {
        await kv.create(key, encodeRecord(record));
      } catch (err) {
        // Already known: a retry (same server) or its stop arrived first — nothing to do; a live
        // stream on a new server (RTMS server failover) — the record takes the new URL and the
        // owner moves its client there (#followRecord).
        const existing = await kv.get(key);
        if (!existing || existing.operation !== 'PUT') throw err;
        const before = decodeRecord<StreamRecord>(existing.value);
        if (before?.state === 'active' && e.payload.server_urls && before.payload.server_urls !== e.payload.server_urls) {
          await kv.update(key, encodeRecord({ ...before, payload: { ...before.payload, server_urls: e.payload.server_urls } }), existing.revision);
        }
      }
    } else if (e.lifecycle === 'interrupted') {
      await this.#updateRecord(key, (r) =>
        r.state === 'active' ? { ...r, interruptedAt: e.eventTs ?? Date.now(), payload: e.payload.server_urls ? { ...r.payload, server_urls: e.payload.server_urls } : r.payload } : undefined,
      );
    } else if (e.lifecycle === 'stopped') {
      const existing = await kv.get(key);
      const before = existing?.operation === 'PUT' ? decodeRecord<StreamRecord>(existing.value) : undefined;
      if (before?.state === 'stopped') return;
      const base: StreamRecord = before ?? { rtmsStreamId: e.rtmsStreamId, product: e.product, meetingUuid: e.meetingUuid, event: e.event, payload: e.payload, startedAt: Date.now(), state: 'stopped' };
      await kv.put(key, encodeRecord({ ...base, state: 'stopped', stoppedAt: Date.now(), stopCause: 'stop webhook' }));
    }
  }

  /**
   * Rewrites a stream's record with `change` (nothing when it returns undefined), only if nobody
   * wrote the record in between (revision check); rejects when NATS refuses or someone did.
   */
  async #updateRecord(key: string, change: (r: StreamRecord) => StreamRecord | undefined): Promise<void> {
    const cur = await this.#c.streams.get(key);
    const r = cur?.operation === 'PUT' ? decodeRecord<StreamRecord>(cur.value) : undefined;
    const next = r && change(r);
    if (next) await this.#c.streams.update(key, encodeRecord(next), cur!.revision);
  }

  async #markStopped(key: string, cause: string): Promise<void> {
    for (let attempt = 0; attempt < 20 && !this.#stopping; attempt++) {
      try {
        await this.#updateRecord(key, (r) => (r.state === 'stopped' ? undefined : { ...r, state: 'stopped', stoppedAt: Date.now(), stopCause: cause }));
        return;
      } catch {
        await new Promise((res) => setTimeout(res, 500));
      }
    }
  }

  /**
   * Stopped records are kept an hour (a late retry of a start webhook must still find the stream
   * stopped), then deleted so the bucket does not grow forever. Any worker may do it; deleting twice is harmless.
   */
  async #forgetStopped(): Promise<void> {
    const cutoff = Date.now() - STOPPED_KEPT_MS;
    for (const [key, r] of this.#records.entries) {
      if (r.value.state === 'stopped' && (r.value.stoppedAt ?? 0) < cutoff) await this.#c.streams.purge(key).catch(() => {});
    }
  }

  // ---- ownership ------------------------------------------------------------------------------

  async #followStatus(): Promise<void> {
    for await (const s of this.#c.nc.status()) {
      if (this.#stopping) return;
      if (s.type === Events.Disconnect) {
        this.#graceUntil = Number.POSITIVE_INFINITY; // until Reconnect sets the real end
        this.#log?.warn({ worker: this.id }, 'NATS connection lost; streams continue, ownership frozen until it is back');
      }
      if (s.type === Events.Reconnect) {
        this.#graceUntil = Date.now() + this.#c.leaseTtlMs + this.#renewMs;
        this.#log?.info({ worker: this.id }, 'NATS connection back; renewing leases');
        void this.#renew();
        this.#messages?.stop(); // the consumer loop reattaches
      }
    }
  }

  #liveWorkers(now: number): WorkerLoad[] {
    const loads = streamsPerWorker(this.#leases, this.#c.leaseTtlMs, now);
    const out: WorkerLoad[] = [];
    for (const w of this.#workers.entries.values()) {
      if (w.value.id === this.id || now - w.seenAt > this.#c.leaseTtlMs) continue;
      out.push({ id: w.value.id, load: loads.get(w.value.id) ?? w.value.load, maxStreams: w.value.maxStreams });
    }
    if (this.#accepting) out.push({ id: this.id, load: this.load, maxStreams: this.#max });
    return out;
  }

  #tick(): void {
    const now = Date.now();
    for (const [key, own] of this.#owned) {
      const record = this.#records.entries.get(key)?.value;
      if (record?.state === 'stopped') void this.#finish(key, own, 'stop webhook');
      else if (record) this.#followRecord(own, record);
    }
    if (!this.#accepting || this.#c.nc.isClosed()) return;
    // Just after (re)connecting, the leases we see may be missing or stale only because NATS was
    // away (a restarted server drops leases whose renewals it missed): claim nothing until the
    // owners have had a full lease lifetime to renew.
    if (now < this.#graceUntil) return;
    if (this.#finalize) this.#finalizeOrphans(now);
    const unowned: string[] = [];
    for (const [key, r] of this.#records.entries) {
      if (r.value.state !== 'active' || this.#owned.has(key) || this.#claiming.has(key)) {
        this.#unownedSince.delete(key);
        continue;
      }
      const lease = this.#leases.entries.get(key);
      if (lease && now - lease.seenAt <= this.#c.leaseTtlMs + LEASE_MARGIN_MS) {
        this.#unownedSince.delete(key);
        continue;
      }
      unowned.push(key);
      if (!this.#unownedSince.has(key)) this.#unownedSince.set(key, now);
    }
    if (!unowned.length) return;
    const workers = this.#liveWorkers(now);
    const plan = placeStreams(unowned, workers);
    for (const key of unowned) {
      if (this.load >= this.#max) break;
      const waited = now - this.#unownedSince.get(key)!;
      const rank = plan.get(key) === this.id ? 0 : rankFor(key, workers, this.id);
      if (plan.get(key) === this.id || (rank >= 0 && waited >= this.#fallbackMs + rank * 300)) void this.#claim(key);
    }
  }

  /** Applies what Zoom announced about a stream we hold: a failover to a new server, or an interruption. */
  #followRecord(own: Owned, record: StreamRecord): void {
    const urls = record.payload.server_urls;
    if (urls && own.serverUrls !== undefined && urls !== own.serverUrls) {
      own.serverUrls = urls;
      own.interruptedAt = record.interruptedAt;
      this.#registry.failover(own.rtmsStreamId, urls);
    } else if (record.interruptedAt !== undefined && record.interruptedAt !== own.interruptedAt) {
      own.interruptedAt = record.interruptedAt;
      this.#registry.interrupted(startEventOf(record));
    }
  }

  #leaseValue(rtmsStreamId: string): Uint8Array {
    const e = this.#registry.get(rtmsStreamId);
    const lease: LeaseRecord = {
      worker: this.id,
      at: Date.now(),
      state: e ? (e.closed ? 'closed' : e.client.state) : 'connecting',
      participants: e?.participants.size ?? 0,
      frames: e ? { ...e.client.stats.frames } : {},
      reconnects: e?.client.stats.reconnects ?? 0,
    };
    return encodeRecord(lease);
  }

  async #claim(key: string): Promise<void> {
    const record = this.#records.entries.get(key)?.value;
    if (!record) return;
    const previous = this.#leases.entries.get(key);
    this.#claiming.add(key);
    try {
      let revision: number;
      try {
        revision = await this.#c.leases.create(key, this.#leaseValue(record.rtmsStreamId));
      } catch {
        return; // someone else was faster, or its lease has not expired yet
      }
      if (this.#records.entries.get(key)?.value.state !== 'active' || !this.#accepting) {
        await this.#releaseLease(key, revision);
        return;
      }
      this.#owned.set(key, { rtmsStreamId: record.rtmsStreamId, revision, serverUrls: record.payload.server_urls, interruptedAt: record.interruptedAt });
      this.#unownedSince.delete(key);
      const takeover = previous !== undefined && previous.value.worker !== this.id;
      const silentMs = takeover ? Date.now() - previous.seenAt : undefined;
      this.#log?.info({ streamId: record.rtmsStreamId, worker: this.id, takeover, previousOwner: previous?.value.worker, silentMs }, takeover ? 'took over stream' : 'claimed stream');
      this.#registry.start(startEventOf(record), { startedAt: record.startedAt, resume: true });
      this.emit('claimed', { rtmsStreamId: record.rtmsStreamId, takeover, silentMs });
    } finally {
      this.#claiming.delete(key);
    }
  }

  /**
   * Stopped streams nobody holds, not yet checked: an owner that was alive closed its recording
   * before releasing the lease; one that died left it open. Waiting a lease lifetime after the stop
   * leaves a live owner the time to do its part.
   */
  #finalizeOrphans(now: number): void {
    const quiet = this.#c.leaseTtlMs + LEASE_MARGIN_MS;
    for (const [key, entry] of this.#records.entries) {
      const r = entry.value;
      if (r.state !== 'stopped' || r.finalized || this.#finalizing.has(key) || this.#owned.has(key)) continue;
      if (now - (r.stoppedAt ?? 0) < quiet) continue;
      const lease = this.#leases.entries.get(key);
      if (lease && now - lease.seenAt <= quiet) continue;
      void this.#finalizeOrphan(key, r);
    }
  }

  async #finalizeOrphan(key: string, record: StreamRecord): Promise<void> {
    this.#finalizing.add(key);
    try {
      let revision: number;
      try {
        const lease: LeaseRecord = { worker: this.id, at: Date.now(), state: 'finalizing', participants: 0, frames: {}, reconnects: 0 };
        revision = await this.#c.leases.create(key, encodeRecord(lease));
      } catch {
        return; // another worker is at it
      }
      let closed = false;
      let failure: string | undefined;
      try {
        closed = await this.#finalize!(record);
        if (closed) this.#log?.info({ streamId: record.rtmsStreamId, worker: this.id }, 'closed the recording of a stream that ended while nobody held it');
      } catch (err) {
        failure = (err as Error).message;
        this.#log?.warn({ streamId: record.rtmsStreamId, err: failure }, 'could not close the recording of a stream that ended while nobody held it');
      }
      try {
        await this.#updateRecord(key, (r) => (r.state === 'stopped' ? { ...r, finalized: true, ...(failure ? { finalizeError: failure } : {}) } : undefined));
      } catch {
        // marked by the next worker that looks, which finds the recording complete
      }
      await this.#releaseLease(key, revision);
      this.emit('finalized', { rtmsStreamId: record.rtmsStreamId, closed });
    } finally {
      this.#finalizing.delete(key);
    }
  }

  async #finish(key: string, own: Owned, cause: string): Promise<void> {
    if (this.#owned.get(key) !== own) return;
    this.#owned.delete(key);
    await this.#registry.stop(own.rtmsStreamId, cause);
    await this.#releaseLease(key, own.revision);
    this.emit('finished', { rtmsStreamId: own.rtmsStreamId, cause });
  }

  /** Deletes our lease (only if it is still the revision we wrote: never someone else's). */
  async #releaseLease(key: string, revision: number): Promise<void> {
    await this.#c.leases.delete(key, { previousSeq: revision }).catch(() => {});
  }

  #renew(): Promise<void> {
    if (this.#renewing || this.#c.nc.isClosed()) return this.#renewal;
    this.#renewing = true;
    this.#renewal = this.#renewAll();
    return this.#renewal;
  }

  async #renewAll(): Promise<void> {
    try {
      await Promise.all([...this.#owned].map(([key, own]) => this.#renewOne(key, own)));
      await this.#heartbeat();
    } catch {
      // NATS unreachable: the streams go on; renewals resume when it is back.
    } finally {
      this.#renewing = false;
    }
  }

  async #renewOne(key: string, own: Owned): Promise<void> {
    try {
      own.revision = await this.#c.leases.update(key, this.#leaseValue(own.rtmsStreamId), own.revision);
      return;
    } catch {
      // Not our revision any more: expired during an outage, or taken. Find out which.
    }
    const cur = await this.#c.leases.get(key).catch(() => undefined);
    if (cur === undefined || this.#owned.get(key) !== own) return; // NATS still away, or no longer ours anyway
    if (!cur || cur.operation !== 'PUT') {
      own.revision = await this.#c.leases.create(key, this.#leaseValue(own.rtmsStreamId)).catch(() => own.revision);
      return;
    }
    const holder = decodeRecord<LeaseRecord>(cur.value)?.worker;
    if (holder === this.id) {
      own.revision = cur.revision;
      return;
    }
    this.#log?.warn({ streamId: own.rtmsStreamId, worker: this.id, holder }, 'lease lost to another worker; handing the stream over');
    this.#owned.delete(key);
    await this.#registry.release(own.rtmsStreamId);
    this.emit('lost', { rtmsStreamId: own.rtmsStreamId });
  }

  async #heartbeat(): Promise<void> {
    if (!this.#accepting && this.#stopping) return;
    const w: WorkerRecord = { id: this.id, host: hostname(), pid: process.pid, load: this.load, maxStreams: this.#max, at: Date.now() };
    await this.#c.workers.put(this.id, encodeRecord(w));
  }
}
