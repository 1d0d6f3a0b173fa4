/**
 * Places audio frames on a timeline by their timestamps so a file's duration equals the stream's
 * wall time: silence where frames are missing, overlaps (duplicates, retransmits) trimmed, and
 * small jitter absorbed without ever shifting later frames (no drift).
 */
export interface Gap {
  /** Offset of the gap from the track start, ms. */
  atMs: number;
  durationMs: number;
}

export interface Placement {
  /** Silence samples (per channel) to write before the frame. */
  silence: number;
  /** Samples (per channel) of the frame's start to drop (already covered). */
  skip: number;
}

export class GapFiller {
  /** Samples per channel placed so far. */
  position = 0;
  readonly gaps: Gap[] = [];

  /**
   * @param startMs timestamp of sample 0
   * @param toleranceMs jitter absorbed without inserting silence or trimming
   */
  constructor(
    readonly startMs: number,
    readonly sampleRate: number,
    readonly toleranceMs = 10,
  ) {}

  /** Where a frame of `length` samples stamped `timestampMs` goes. */
  place(timestampMs: number, length: number): Placement {
    const due = Math.round(((timestampMs - this.startMs) * this.sampleRate) / 1000);
    const tolerance = Math.round((this.toleranceMs * this.sampleRate) / 1000);
    let silence = 0;
    let skip = 0;
    if (due > this.position + tolerance) {
      silence = due - this.position;
      this.gaps.push({ atMs: (this.position * 1000) / this.sampleRate, durationMs: (silence * 1000) / this.sampleRate });
    } else if (due < this.position - tolerance) {
      skip = Math.min(length, this.position - due);
    }
    this.position += silence + (length - skip);
    return { silence, skip };
  }

  /** Pads to the given wall-clock time (stream end); returns the silence to append. */
  padTo(timestampMs: number): number {
    const due = Math.round(((timestampMs - this.startMs) * this.sampleRate) / 1000);
    const n = Math.max(0, due - this.position);
    if (n > 0) this.position += n;
    return n;
  }
}
