/**
 * ClusterView: what a gateway knows of the cluster's streams, from the streams and leases buckets —
 * every stream, its owner, the owner's client state and counters (carried in the lease). It stands
 * in for the local registry in the API, dashboard and metrics of a gateway.
 */
import type { Cluster } from './connection.js';
import { BucketMirror, LEASE_MARGIN_MS, streamsPerWorker } from './mirror.js';
import { streamKey } from './names.js';
import type { LeaseRecord, StreamRecord, WorkerRecord } from './records.js';

export interface ClusterStreamStatus {
  rtmsStreamId: string;
  product: string;
  meetingUuid: string;
  startedAt: number;
  /** The owner's client state; `unowned` while no live worker holds it (failover under way); `stopped` once ended. */
  state: string;
  worker?: string;
  participants: number;
  frames: Record<string, number>;
  reconnects: number;
  stopCause?: string;
}

export class ClusterView {
  readonly #c: Cluster;
  readonly #records: BucketMirror<StreamRecord>;
  readonly #leases: BucketMirror<LeaseRecord>;
  readonly #workers: BucketMirror<WorkerRecord>;

  constructor(cluster: Cluster) {
    this.#c = cluster;
    this.#records = new BucketMirror(cluster.nc, cluster.streams);
    this.#leases = new BucketMirror(cluster.nc, cluster.leases);
    this.#workers = new BucketMirror(cluster.nc, cluster.workers);
  }

  async start(): Promise<void> {
    await Promise.all([this.#records.start(), this.#leases.start(), this.#workers.start()]);
  }

  stop(): void {
    this.#records.stop();
    this.#leases.stop();
    this.#workers.stop();
  }

  /**
   * Removes a stopped stream's record from the cluster (the stream was deleted), so no gateway lists
   * it again; 1 when there was one. A stream that is not stopped is left alone (0).
   */
  async forget(rtmsStreamId: string): Promise<number> {
    const key = streamKey(rtmsStreamId);
    const r = this.#records.entries.get(key);
    if (!r || r.value.state !== 'stopped') return 0;
    await this.#c.streams.delete(key);
    this.#records.entries.delete(key);
    return 1;
  }

  #fresh(seenAt: number): boolean {
    return Date.now() - seenAt <= this.#c.leaseTtlMs + LEASE_MARGIN_MS;
  }

  /** Every stream the cluster knows, most recent first. */
  list(): ClusterStreamStatus[] {
    const out: ClusterStreamStatus[] = [];
    for (const [key, r] of this.#records.entries) {
      const lease = this.#leases.entries.get(key);
      const owned = lease && this.#fresh(lease.seenAt) ? lease.value : undefined;
      out.push({
        rtmsStreamId: r.value.rtmsStreamId,
        product: r.value.product,
        meetingUuid: r.value.meetingUuid,
        startedAt: r.value.startedAt,
        state: r.value.state === 'stopped' ? 'stopped' : (owned?.state ?? 'unowned'),
        worker: owned?.worker,
        participants: owned?.participants ?? 0,
        frames: owned?.frames ?? {},
        reconnects: owned?.reconnects ?? 0,
        stopCause: r.value.stopCause,
      });
    }
    return out.sort((a, b) => b.startedAt - a.startedAt);
  }

  /** Active streams (not stopped). */
  get active(): number {
    let n = 0;
    for (const r of this.#records.entries.values()) if (r.value.state === 'active') n++;
    return n;
  }

  /** Live workers and how many streams each holds. */
  workers(): (WorkerRecord & { streams: number })[] {
    const counts = streamsPerWorker(this.#leases, this.#c.leaseTtlMs + LEASE_MARGIN_MS);
    return [...this.#workers.entries.values()].filter((w) => this.#fresh(w.seenAt)).map((w) => ({ ...w.value, streams: counts.get(w.value.id) ?? 0 }));
  }

  /** Per-stream details live on the owning worker; a gateway has none. */
  get(): undefined {
    return undefined;
  }
}
