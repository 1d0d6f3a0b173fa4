/**
 * LiveBus: in-process, typed publish/subscribe for the live feed.
 *
 * The publisher (a LiveSink on the socket reader's turn) never waits: `publish()` appends the message
 * to each matching subscriber's bounded queue and returns. Delivery happens on a later turn
 * (`setImmediate`), in batches. A subscriber that cannot keep up (its queue is full, typically
 * because it paused itself while its socket drains) loses its oldest messages (`drop-oldest`, the
 * default: it then receives one `lagged` message saying how many) or is closed (`disconnect`).
 * Either way the drop is counted and the publisher and the other subscribers are not affected.
 */
import type { LiveMessage, LiveMessageType, LiveSnapshotMessage } from './types.js';

export type LagPolicy = 'drop-oldest' | 'disconnect';

export interface SubscribeOptions {
  /** Only messages of this stream (plus `stream` started/ended notices of every stream). */
  streamId?: string;
  /** Only these message types. */
  types?: readonly LiveMessageType[];
  /** Messages held for this subscriber at most. Default 1024. */
  maxQueue?: number;
  /** What happens when the queue is full. Default `drop-oldest`. */
  onLag?: LagPolicy;
  /**
   * Push mode: called on a later turn of the event loop with every waiting message (in order),
   * unless the subscription is paused. Without it, read the subscription as an async iterable.
   */
  deliver?: (messages: LiveMessage[]) => void;
  /** Called once when the subscription closes (by `close()`, the bus closing, or `disconnect` on lag). */
  onClose?: (reason: 'closed' | 'lagged') => void;
}

export interface LiveBusStats {
  published: number;
  delivered: number;
  /** Messages discarded for slow subscribers. */
  dropped: number;
  /** Subscribers closed for being too slow (`disconnect` policy). */
  disconnected: number;
  subscribers: number;
  /** Messages waiting in all queues now. */
  queued: number;
}

let nextId = 1;

/** One subscriber's view of the bus. Close it when done; closing twice is harmless. */
export class LiveSubscription implements AsyncIterable<LiveMessage> {
  readonly id = nextId++;
  /** Messages discarded for this subscriber so far. */
  dropped = 0;
  #bus: LiveBus;
  #queue: LiveMessage[] = [];
  #max: number;
  #policy: LagPolicy;
  #types?: ReadonlySet<string>;
  #deliver?: (messages: LiveMessage[]) => void;
  #onClose?: (reason: 'closed' | 'lagged') => void;
  #scheduled = false;
  #paused = false;
  #closed = false;
  #lag = 0;
  #waiter?: (r: IteratorResult<LiveMessage>) => void;
  /** @internal */ streamId?: string;

  /** @internal use {@link LiveBus.subscribe}. */
  constructor(bus: LiveBus, o: SubscribeOptions) {
    this.#bus = bus;
    this.streamId = o.streamId;
    this.#max = Math.max(1, o.maxQueue ?? 1024);
    this.#policy = o.onLag ?? 'drop-oldest';
    this.#types = o.types ? new Set(o.types) : undefined;
    this.#deliver = o.deliver;
    this.#onClose = o.onClose;
  }

  get closed(): boolean {
    return this.#closed;
  }
  get paused(): boolean {
    return this.#paused;
  }
  /** Messages waiting for this subscriber. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Stops delivery (push mode) until `resume()`; messages queue up to `maxQueue`, then are dropped. */
  pause(): void {
    this.#paused = true;
  }
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#queue.length || this.#lag) this.#schedule();
  }

  /** Follows another stream (or every stream with `undefined`). Queued messages are kept. */
  setStream(streamId: string | undefined): void {
    this.#bus._refilter(this, streamId);
  }

  /** @internal whether a message of this type would be queued. */
  _accepts(type: LiveMessageType): boolean {
    return !this.#closed && (!this.#types || this.#types.has(type));
  }

  /** @internal called by the bus for each matching message. */
  _push(msg: LiveMessage): void {
    if (this.#closed || (this.#types && !this.#types.has(msg.type))) return;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      this.#bus._delivered(1);
      w({ value: msg, done: false });
      return;
    }
    if (this.#queue.length >= this.#max) {
      this.dropped++;
      this.#bus._dropped();
      if (this.#policy === 'disconnect') {
        this.#end('lagged');
        return;
      }
      this.#queue.shift();
      this.#lag++;
    }
    this.#queue.push(msg);
    if (this.#deliver && !this.#paused) this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    setImmediate(this.#flush);
  }

  #flush = (): void => {
    this.#scheduled = false;
    if (this.#closed || this.#paused || !this.#deliver) return;
    const batch = this.#take();
    if (batch.length) this.#deliver(batch);
  };

  #take(): LiveMessage[] {
    let batch = this.#queue;
    this.#queue = [];
    if (this.#lag) {
      batch = [{ type: 'lagged', streamId: this.streamId ?? '*', dropped: this.#lag, timestamp: Date.now() }, ...batch];
      this.#lag = 0;
    }
    this.#bus._delivered(batch.length);
    return batch;
  }

  /** Async iteration (pull mode): yields messages as they come until the subscription closes. */
  [Symbol.asyncIterator](): AsyncIterator<LiveMessage> {
    let pending: LiveMessage[] = [];
    return {
      next: () => {
        if (pending.length === 0 && (this.#queue.length || this.#lag)) pending = this.#take();
        if (pending.length) return Promise.resolve({ value: pending.shift()!, done: false });
        if (this.#closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.#waiter = resolve));
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  close(): void {
    this.#end('closed');
  }

  #end(reason: 'closed' | 'lagged'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#bus._remove(this, reason);
    this.#waiter?.({ value: undefined, done: true });
    this.#waiter = undefined;
    this.#onClose?.(reason);
  }
}

export class LiveBus {
  #byStream = new Map<string, Set<LiveSubscription>>();
  #all = new Set<LiveSubscription>();
  #snapshots = new Map<string, () => LiveSnapshotMessage>();
  #stats = { published: 0, delivered: 0, dropped: 0, disconnected: 0 };
  #closed = false;
  #generation = 0;

  /**
   * Changes whenever a subscription is added, closed or follows another stream: a publisher that
   * caches {@link wants} asks again only when this moved.
   */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Whether any subscriber would receive a message of `type` about `streamId` now. Publishers skip
   * work nobody would see: audio levels are metered only while someone watches the stream.
   */
  wants(streamId: string, type: LiveMessageType): boolean {
    for (const s of this.#all) if (s._accepts(type)) return true;
    const set = this.#byStream.get(streamId);
    if (set) for (const s of set) if (s._accepts(type)) return true;
    return false;
  }

  /** Subscribes; see {@link SubscribeOptions}. */
  subscribe(options: SubscribeOptions = {}): LiveSubscription {
    const sub = new LiveSubscription(this, options);
    if (this.#closed) {
      sub.close();
      return sub;
    }
    this.#add(sub);
    return sub;
  }

  /** Hands `msg` to every matching subscriber's queue. Never blocks, never throws for a subscriber. */
  publish(msg: LiveMessage): void {
    if (this.#closed) return;
    this.#stats.published++;
    if (msg.type === 'stream') {
      for (const s of this.#all) s._push(msg);
      for (const set of this.#byStream.values()) for (const s of set) s._push(msg);
      return;
    }
    for (const s of this.#all) s._push(msg);
    const set = this.#byStream.get(msg.streamId);
    if (set) for (const s of set) s._push(msg);
  }

  /** Registers how to describe a live stream's present state to a new subscriber. */
  setSnapshot(streamId: string, provider: (() => LiveSnapshotMessage) | undefined): void {
    if (provider) this.#snapshots.set(streamId, provider);
    else this.#snapshots.delete(streamId);
  }

  /** The present state of a live stream, or undefined when no LiveSink serves it. */
  snapshot(streamId: string): LiveSnapshotMessage | undefined {
    return this.#snapshots.get(streamId)?.();
  }

  /** Ids of the streams that have a live sink now. */
  liveStreams(): string[] {
    return [...this.#snapshots.keys()];
  }

  get stats(): LiveBusStats {
    let queued = 0;
    for (const s of this.#all) queued += s.queued;
    for (const set of this.#byStream.values()) for (const s of set) queued += s.queued;
    return { ...this.#stats, subscribers: this.#all.size + [...this.#byStream.values()].reduce((n, s) => n + s.size, 0), queued };
  }

  /** Closes every subscription; later publishes are ignored. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.#all]) s.close();
    for (const set of [...this.#byStream.values()]) for (const s of [...set]) s.close();
    this.#snapshots.clear();
  }

  #add(sub: LiveSubscription): void {
    this.#generation++;
    if (sub.streamId === undefined) this.#all.add(sub);
    else {
      let set = this.#byStream.get(sub.streamId);
      if (!set) this.#byStream.set(sub.streamId, (set = new Set()));
      set.add(sub);
    }
  }

  /** @internal */ _remove(sub: LiveSubscription, reason: 'closed' | 'lagged'): void {
    if (reason === 'lagged') this.#stats.disconnected++;
    this.#generation++;
    if (sub.streamId === undefined) this.#all.delete(sub);
    else {
      const set = this.#byStream.get(sub.streamId);
      set?.delete(sub);
      if (set && set.size === 0) this.#byStream.delete(sub.streamId);
    }
  }
  /** @internal */ _refilter(sub: LiveSubscription, streamId: string | undefined): void {
    if (sub.closed) return;
    this._remove(sub, 'closed');
    sub.streamId = streamId;
    this.#add(sub);
  }
  /** @internal */ _dropped(): void {
    this.#stats.dropped++;
  }
  /** @internal */ _delivered(n: number): void {
    this.#stats.delivered += n;
  }
}

/** JSON of a message, computed once however many subscribers send it. */
const jsonCache = new WeakMap<object, string>();
export function toJson(msg: LiveMessage): string {
  let s = jsonCache.get(msg);
  if (s === undefined) jsonCache.set(msg, (s = JSON.stringify(msg)));
  return s;
}
