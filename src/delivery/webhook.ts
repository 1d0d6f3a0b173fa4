/**
 * The signed webhook destination. `deliver()` only inserts the event into the durable outbox and
 * returns; a pump POSTs the head of each stream's queue (per-stream order: the next event of a
 * stream waits until the previous one is delivered or dead), different streams in parallel up to
 * `concurrency`. A 2xx within `timeoutMs` is delivered; anything else is retried with exponential
 * backoff and jitter until `maxAgeHours` have passed, then it becomes a dead letter (list, replay).
 */
import { matchesFilter } from './match.js';
import type { Outbox, OutboxRow } from './outbox.js';
import { signWebhook } from './signature.js';
import type { DeadLetter, DeliveryEvent, DeliveryEventType, DeliveryStream, Destination, DestinationStats, WebhookDestinationConfig } from './types.js';

export interface WebhookTuning {
  /** First retry delay. Default 1 s. */
  initialBackoffMs?: number;
  /** Longest retry delay. Default 10 min. */
  maxBackoffMs?: number;
  /** Streams delivered in parallel. Default 8. */
  concurrency?: number;
  /** How often due retries are looked for. Default 500 ms. */
  pollMs?: number;
}

export interface WebhookDeps {
  outbox: Outbox;
  tuning?: WebhookTuning;
  logger?: { warn(o: object, m?: string): void };
}


/** The delay before attempt `attempts + 1`: initial × 2^(attempts-1), capped, ±20 % jitter. */
export function backoffMs(attempts: number, initial: number, max: number): number {
  const base = Math.min(max, initial * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export class WebhookDestination implements Destination {
  readonly type = 'webhook' as const;
  readonly name: string;
  readonly #busy = new Set<string>();
  readonly #inflight = new Map<string, AbortController>();
  readonly #t: Required<WebhookTuning>;
  /** The URL without userinfo (fetch refuses it) and the Basic authorization it stood for. */
  readonly #url: string;
  readonly #auth?: string;
  #timer?: NodeJS.Timeout;
  #pruneTimer?: NodeJS.Timeout;
  #scheduled = false;
  #closed = false;
  #delivered = 0;
  #retried = 0;

  constructor(
    private readonly config: WebhookDestinationConfig,
    private readonly deps: WebhookDeps,
  ) {
    this.name = config.name;
    this.#t = { initialBackoffMs: 1000, maxBackoffMs: 600_000, concurrency: 8, pollMs: 500, ...deps.tuning };
    const u = new URL(config.url);
    if (u.username || u.password) {
      this.#auth = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
      u.username = '';
      u.password = '';
    }
    this.#url = u.href;
  }

  matches(stream: DeliveryStream, eventType?: DeliveryEventType): boolean {
    if (eventType && this.config.events && !this.config.events.includes(eventType)) return false;
    return matchesFilter(this.config.match, stream, eventType);
  }

  /** Resumes what an earlier run left pending, and looks for due retries every `pollMs`. */
  async start(): Promise<void> {
    this.#prune();
    this.#timer = setInterval(() => this.#pump(), this.#t.pollMs);
    this.#timer.unref();
    this.#pruneTimer = setInterval(() => this.#prune(), 600_000);
    this.#pruneTimer.unref();
    this.#schedule();
  }

  deliver(event: DeliveryEvent): void {
    if (this.#closed) return;
    // One synchronous insert (tens of µs in WAL mode): the event is durable before deliver() returns.
    this.deps.outbox.add({ destination: this.name, eventId: event.id, streamId: event.stream.rtmsStreamId, eventType: event.type, body: JSON.stringify(event), createdAt: event.createdAt });
    this.#schedule();
  }

  stats(): DestinationStats {
    const counts = this.deps.outbox.counts(this.name);
    const oldest = this.deps.outbox.oldestPending(this.name);
    return { queued: counts.pending, delivered: this.#delivered, retried: this.#retried, failed: counts.dead, lagMs: oldest === undefined ? 0 : Math.max(0, Date.now() - oldest) };
  }

  deadLetters(limit?: number): DeadLetter[] {
    return this.deps.outbox.deadLetters(this.name, limit).map((r) => ({ id: r.eventId, type: r.eventType, rtmsStreamId: r.streamId, createdAt: r.createdAt, attempts: r.attempts, lastError: r.lastError }));
  }

  replay(ids?: readonly string[]): number {
    const n = this.deps.outbox.replay(this.name, ids);
    this.#schedule();
    return n;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    clearInterval(this.#pruneTimer);
    // Requests in flight stay pending in the outbox: sent again on the next start (at-least-once).
    for (const c of this.#inflight.values()) c.abort();
    const deadline = Date.now() + 2000;
    while (this.#busy.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  /**
   * Delivered rows are kept as long as an event may still be re-sent (its retry window, at least a
   * day) so that a re-sent id is recognised; then forgotten so the outbox stays small.
   */
  #prune(): void {
    this.deps.outbox.prune(this.name, Date.now() - Math.max(24, this.config.maxAgeHours) * 3_600_000);
  }

  /** Coalesces wake-ups (many deliver() calls in one turn make one pump). */
  #schedule(): void {
    if (this.#scheduled || this.#closed || !this.#timer) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#closed) return;
    const free = this.#t.concurrency - this.#busy.size;
    if (free <= 0) return;
    for (const row of this.deps.outbox.due(this.name, Date.now(), free, this.#busy)) {
      this.#busy.add(row.streamId);
      void this.#send(row).finally(() => {
        this.#busy.delete(row.streamId);
        this.#schedule();
      });
    }
  }

  async #send(row: OutboxRow): Promise<void> {
    const ctrl = new AbortController();
    this.#inflight.set(row.streamId, ctrl);
    const timer = setTimeout(() => ctrl.abort(), this.config.timeoutMs);
    let error: string | undefined;
    try {
      const ts = Math.floor(Date.now() / 1000);
      const res = await fetch(this.#url, {
        method: 'POST',
        headers: { ...(this.#auth ? { authorization: this.#auth } : {}), 'content-type': 'application/json', 'x-openrtms-event-id': row.eventId, 'x-openrtms-timestamp': String(ts), 'x-openrtms-signature': signWebhook(this.config.secret, ts, row.body) },
        body: row.body,
        signal: ctrl.signal,
        redirect: 'manual',
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
    } catch (err) {
      error = ctrl.signal.aborted ? (this.#closed ? 'closed' : `no answer within ${this.config.timeoutMs} ms`) : // The cause's code (ECONNREFUSED...), never the message: it may quote the URL and its credentials.
          ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name);
    } finally {
      clearTimeout(timer);
      this.#inflight.delete(row.streamId);
    }
    if (this.#closed) return; // leave the row pending; the outbox may be closing
    const now = Date.now();
    if (error === undefined) {
      this.deps.outbox.markDelivered(row.seq, now);
      this.#delivered++;
      return;
    }
    if (now - row.since >= this.config.maxAgeHours * 3_600_000) {
      this.deps.outbox.markDead(row.seq, error);
      this.deps.logger?.warn({ destination: this.name, eventId: row.eventId, type: row.eventType, attempts: row.attempts + 1, err: error }, 'webhook event is a dead letter (replay it from the API or dashboard)');
      return;
    }
    this.#retried++;
    this.deps.outbox.markRetry(row.seq, now + backoffMs(row.attempts + 1, this.#t.initialBackoffMs, this.#t.maxBackoffMs), error);
  }
}

export function createWebhookDestination(config: WebhookDestinationConfig, deps: WebhookDeps): WebhookDestination {
  return new WebhookDestination(config, deps);
}
