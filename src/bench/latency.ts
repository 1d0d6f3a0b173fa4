/** A latency distribution as reported (ms). */
export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
}

/** Fixed-memory latency recorder: 0.1 ms buckets up to 10 s, percentiles without storing samples. */
export class LatencyHistogram {
  #buckets = new Uint32Array(100_001);
  count = 0;
  /** Largest value recorded (ms), 0 before any. */
  max = 0;
  record(ms: number): void {
    const i = ms <= 0 ? 0 : ms >= 10_000 ? 100_000 : Math.round(ms * 10);
    this.#buckets[i]++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const target = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      seen += this.#buckets[i];
      if (seen >= target) return i / 10;
    }
    return 10_000;
  }
}

/** Frames of a stream's first seconds (its join, with every other stream joining too) are not steady state. */
export const WARMUP_MS = 2000;

/**
 * One stream's frame lags (arrival minus the time the frame was due): every frame goes to `all`,
 * frames due after the stream's first {@link WARMUP_MS} to `steady` as well.
 */
export class StreamLag {
  #first = NaN;
  constructor(
    readonly steady: LatencyHistogram,
    readonly all: LatencyHistogram,
  ) {}
  record(due: number, now = Date.now()): void {
    if (this.#first !== this.#first) this.#first = due;
    const lag = now - due;
    this.all.record(lag);
    if (due - this.#first >= WARMUP_MS) this.steady.record(lag);
  }
}
