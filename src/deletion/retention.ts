/**
 * The retention sweep: deletes, through the same StreamDeleter as `DELETE /api/streams/:id`, every
 * stopped stream older than the config file's `retention` allows (age from when it stopped). Runs at
 * start and then once a day. Processes sharing a store (a cluster's workers) take the store's
 * `retention` lease, so one sweeps at a time, and the lease remembers when the last sweep finished,
 * so the cluster sweeps once a day whichever worker does it. With `dryRun` it only logs what would go.
 * Streams the store does not show as stopped are never swept (a crash may have left one unfinished:
 * delete it by hand).
 */
import type { RetentionConfig } from '../config/retention.js';
import { retentionDays } from '../config/retention.js';
import { DeletionError } from '../errors.js';
import type { Store } from '../store/types.js';
import type { StreamDeleter } from './deleter.js';

const DAY_MS = 86_400_000;
const LEASE = 'retention';

export interface RetentionOptions {
  config: RetentionConfig;
  store: Store;
  deleter: StreamDeleter;
  /** This process, as the lease holder (unique in the cluster). */
  holder: string;
  logger?: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** The clock (tests move it). Default Date.now. */
  now?: () => number;
  /** How often the process checks whether a day has passed since the last sweep. Default 1 h. */
  checkEveryMs?: number;
  /** Time between sweeps. Default 24 h. */
  periodMs?: number;
  /** How long one sweep may hold the lease before another process may take it. Default 1 h. */
  leaseMs?: number;
}

export interface RetentionCandidate {
  rtmsStreamId: string;
  product: string;
  /** When it stopped (ms), the age counts from here. */
  endedAt: number;
  ageDays: number;
  keepDays: number;
}

export interface RetentionResult {
  /** `lease`: another process is sweeping; `recent`: the last sweep was less than a period ago. */
  skipped?: 'lease' | 'recent';
  dryRun: boolean;
  candidates: RetentionCandidate[];
  deleted: string[];
  failed: { rtmsStreamId: string; error: string }[];
}

export class RetentionSweeper {
  readonly #o: RetentionOptions;
  #timer?: NodeJS.Timeout;
  #running?: Promise<RetentionResult>;

  constructor(o: RetentionOptions) {
    this.#o = o;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /** Stopped streams older than the policy allows, oldest first. */
  async candidates(): Promise<RetentionCandidate[]> {
    const now = this.#now();
    const out: RetentionCandidate[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await this.#o.store.listStreams({ state: 'stopped', limit: 1000, offset });
      for (const s of page) {
        const keepDays = retentionDays(this.#o.config, s.product);
        if (keepDays === undefined) continue;
        const endedAt = s.stoppedAt ?? s.startedAt;
        if (now - endedAt > keepDays * DAY_MS) out.push({ rtmsStreamId: s.rtmsStreamId, product: s.product, endedAt, ageDays: Math.round(((now - endedAt) / DAY_MS) * 10) / 10, keepDays });
      }
      if (page.length < 1000) break;
    }
    return out.sort((a, b) => a.endedAt - b.endedAt);
  }

  /**
   * One sweep, now, unless another process holds the lease (or, with `onlyIfDue`, the last sweep
   * finished less than a period ago).
   */
  sweep(onlyIfDue = false): Promise<RetentionResult> {
    this.#running ??= this.#sweep(onlyIfDue).finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #sweep(onlyIfDue: boolean): Promise<RetentionResult> {
    const dryRun = this.#o.config.dryRun;
    const result: RetentionResult = { dryRun, candidates: [], deleted: [], failed: [] };
    const lease = await this.#o.store.acquireLease(LEASE, this.#o.holder, this.#o.leaseMs ?? 3_600_000, this.#now());
    if (!lease.acquired) return { ...result, skipped: 'lease' };
    if (onlyIfDue && lease.lastDone !== undefined && this.#now() - lease.lastDone < (this.#o.periodMs ?? DAY_MS)) {
      await this.#o.store.releaseLease(LEASE, this.#o.holder);
      return { ...result, skipped: 'recent' };
    }
    let done = false;
    try {
      result.candidates = await this.candidates();
      for (const c of result.candidates) {
        const what = { rtmsStreamId: c.rtmsStreamId, product: c.product, endedAt: new Date(c.endedAt).toISOString(), ageDays: c.ageDays, keepDays: c.keepDays };
        if (dryRun) {
          this.#o.logger?.info({ retention: 'dry-run', ...what }, 'retention (dry run): would delete this stream');
          continue;
        }
        try {
          await this.#o.deleter.delete(c.rtmsStreamId, { kind: 'retention', policy: `${c.product}: ${c.keepDays} days` });
          result.deleted.push(c.rtmsStreamId);
        } catch (err) {
          // Gone meanwhile (deleted by hand): nothing left to do.
          if (err instanceof DeletionError && err.code === 'STREAM_NOT_FOUND') continue;
          result.failed.push({ rtmsStreamId: c.rtmsStreamId, error: (err as Error).message });
          this.#o.logger?.warn({ retention: 'failed', ...what, err: (err as Error).message }, 'retention could not delete a stream; the next sweep tries again');
        }
      }
      done = true;
      this.#o.logger?.info({ retention: 'sweep', dryRun, candidates: result.candidates.length, deleted: result.deleted.length, failed: result.failed.length }, dryRun ? 'retention sweep (dry run) done' : 'retention sweep done');
      return result;
    } finally {
      await this.#o.store.releaseLease(LEASE, this.#o.holder, done ? this.#now() : undefined).catch(() => {});
    }
  }

  /** Sweeps now (unless another process is), then checks every hour whether a day has passed. */
  start(): void {
    if (this.#timer) return;
    const run = (onlyIfDue: boolean) =>
      void this.sweep(onlyIfDue).catch((err: Error) => this.#o.logger?.warn({ retention: 'failed', err: err.message }, 'retention sweep failed; retried at the next check'));
    run(false);
    this.#timer = setInterval(() => run(true), this.#o.checkEveryMs ?? 3_600_000);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }
}
