/**
 * Silence keep-alive for vendors that end a stream after a few seconds without audio (Transcribe:
 * 15 s, Scribe live: ~30 s) and have no keep-alive message of their own. When the sink has sent
 * nothing for `afterMs`, the adapter sends a short run of silence; since the vendor then counts
 * that silence in its result times, the timeline here maps vendor times back to "ms from the
 * first sample the sink sent", which is what {@link SttResult} times mean.
 */
export class SilenceKeepAlive {
  /** Audio ms the vendor has received: the sink's audio plus inserted silence. */
  #vendorMs = 0;
  /** Inserted silence as [vendor-time position, duration ms], in order. */
  readonly #inserted: Array<[number, number]> = [];
  #lastAudioAt = Date.now();

  constructor(
    private readonly sampleRate: number,
    /** Idle time before silence is sent; 0 disables. */
    readonly afterMs: number,
    private readonly silenceMs = 100,
  ) {}

  /** Records `bytes` of the sink's s16le audio sent to the vendor. */
  noteAudio(bytes: number): void {
    this.#vendorMs += (bytes / 2 / this.sampleRate) * 1000;
    this.#lastAudioAt = Date.now();
  }

  /** Returns a buffer of silence to send when the stream has been idle long enough, else undefined. */
  due(now = Date.now()): Buffer | undefined {
    if (this.afterMs <= 0 || now - this.#lastAudioAt < this.afterMs) return undefined;
    this.#inserted.push([this.#vendorMs, this.silenceMs]);
    this.#vendorMs += this.silenceMs;
    this.#lastAudioAt = now;
    return Buffer.alloc(Math.round((this.sampleRate * this.silenceMs) / 1000) * 2);
  }

  /** Total silence inserted so far (ms). */
  get insertedMs(): number {
    return this.#inserted.reduce((sum, [, d]) => sum + d, 0);
  }

  /** Vendor time → time of the sink's audio (inserted silence removed; a time inside it maps to its start). */
  toLocal(vendorMs: number): number {
    let shift = 0;
    for (const [at, dur] of this.#inserted) {
      if (at >= vendorMs) break;
      shift += Math.min(dur, vendorMs - at);
    }
    return vendorMs - shift;
  }
}
