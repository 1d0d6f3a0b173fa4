/** Fixed-memory latency recorder: 0.1 ms buckets up to 10 s, percentiles without storing samples. */
export class LatencyHistogram {
  #buckets = new Uint32Array(100_001);
  count = 0;
  record(ms: number): void {
    const i = ms <= 0 ? 0 : ms >= 10_000 ? 100_000 : Math.round(ms * 10);
    this.#buckets[i]++;
    this.count++;
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
