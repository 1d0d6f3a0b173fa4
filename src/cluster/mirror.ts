/**
 * BucketMirror: an in-memory copy of a KV bucket, kept current by a watch. The watch is restarted
 * whenever the NATS connection comes back (a restarted server loses its push consumers), and the
 * copy is rebuilt from the bucket's last values. `seenAt` is this process's clock when the entry
 * last changed, which is how lease expiry is judged without trusting other machines' clocks.
 */
import { Events, type KV, type KvEntry, type NatsConnection, type QueuedIterator } from 'nats';
import { decodeRecord } from './records.js';

export interface Mirrored<T> {
  value: T;
  revision: number;
  /** Local Date.now() when this value was seen. */
  seenAt: number;
}

/** A lease is still held while its last renewal was seen within TTL plus this margin (delivery delay). */
export const LEASE_MARGIN_MS = 250;

/** Streams held per worker, counting only leases renewed within `maxAgeMs` of `now`. */
export function streamsPerWorker(leases: { entries: ReadonlyMap<string, Mirrored<{ worker: string }>> }, maxAgeMs: number, now = Date.now()): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of leases.entries.values()) if (now - l.seenAt <= maxAgeMs) counts.set(l.value.worker, (counts.get(l.value.worker) ?? 0) + 1);
  return counts;
}

export class BucketMirror<T> {
  readonly entries = new Map<string, Mirrored<T>>();
  #iter?: QueuedIterator<KvEntry>;
  #stopped = false;
  #generation = 0;
  #ready?: Promise<void>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
  ) {}

  /** Starts watching; resolves once the current values are loaded. */
  start(): Promise<void> {
    void this.#followStatus();
    return (this.#ready = this.#watch());
  }

  stop(): void {
    this.#stopped = true;
    this.#iter?.stop();
  }

  async #followStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (this.#stopped) return;
      if (s.type === Events.Reconnect) void this.#watch().catch(() => {});
    }
  }

  async #watch(): Promise<void> {
    const generation = ++this.#generation;
    this.#iter?.stop();
    let initialized!: () => void;
    const loaded = new Promise<void>((r) => (initialized = r));
    const iter = await this.kv.watch({ initializedFn: () => initialized() });
    if (generation !== this.#generation || this.#stopped) {
      iter.stop();
      return;
    }
    this.#iter = iter;
    const seen = new Set<string>();
    let replaying = true;
    void loaded.then(() => {
      // Keys that vanished while we were not watching (deleted, or expired by the TTL).
      replaying = false;
      for (const key of [...this.entries.keys()]) if (!seen.has(key)) this.#set(key, undefined);
    });
    void (async () => {
      for await (const e of iter) {
        if (replaying) seen.add(e.key);
        if (e.operation !== 'PUT') this.#set(e.key, undefined);
        else {
          const value = decodeRecord<T>(e.value);
          if (value !== undefined) this.#set(e.key, { value, revision: e.revision, seenAt: Date.now() });
        }
      }
    })().catch(() => {});
    await Promise.race([loaded, new Promise((r) => setTimeout(r, 5000).unref())]);
  }

  #set(key: string, entry: Mirrored<T> | undefined): void {
    if (entry) this.entries.set(key, entry);
    else this.entries.delete(key);
  }
}
