/**
 * The pauses of a recording (STREAM_STATE PAUSED … RESUMED): when the app was paused, so that the
 * silence the audio files carry meanwhile reads as a pause and not as lost audio.
 */

/** ms since epoch; `end` undefined while the pause lasts. */
export interface Pause {
  start: number;
  end?: number;
}

/** Audio gaps this close to a pause's edges still belong to it (frames are 20 ms; clocks differ a little). */
const EDGE_MS = 1000;

export class PauseLog {
  readonly #pauses: Pause[];

  constructor(pauses: Pause[] = []) {
    this.#pauses = pauses.map((p) => ({ ...p }));
  }

  get paused(): boolean {
    const last = this.#pauses.at(-1);
    return last !== undefined && last.end === undefined;
  }

  pause(at: number): void {
    if (!this.paused) this.#pauses.push({ start: at });
  }

  resume(at: number): void {
    const last = this.#pauses.at(-1);
    if (last && last.end === undefined) last.end = Math.max(at, last.start);
  }

  /** True when the gap [at, at + durationMs) lies within a pause (an open one runs to now). */
  covers(at: number, durationMs: number): boolean {
    for (const p of this.#pauses) {
      const end = p.end ?? Number.POSITIVE_INFINITY;
      if (at >= p.start - EDGE_MS && at + durationMs <= end + EDGE_MS) return true;
    }
    return false;
  }

  /** Changes a manifest reader cares about. */
  news(): string {
    return this.#pauses.map((p) => `${p.start}-${p.end ?? ''}`).join(',');
  }

  /** `pauses` of manifest.json; `stoppedAt` closes a pause the stream ended in. */
  toManifest(stoppedAt?: number): { start: string; end: string | null; duration_ms: number | null }[] {
    return this.#pauses.map((p) => {
      const end = p.end ?? stoppedAt;
      return { start: new Date(p.start).toISOString(), end: end === undefined ? null : new Date(end).toISOString(), duration_ms: end === undefined ? null : end - p.start };
    });
  }

  /** Reads `pauses` of an earlier manifest. */
  static fromManifest(v: unknown): Pause[] {
    if (!Array.isArray(v)) return [];
    const out: Pause[] = [];
    for (const p of v as { start?: unknown; end?: unknown }[]) {
      const start = typeof p?.start === 'string' ? Date.parse(p.start) : NaN;
      if (!Number.isFinite(start)) continue;
      const end = typeof p.end === 'string' ? Date.parse(p.end) : NaN;
      out.push(Number.isFinite(end) ? { start, end } : { start });
    }
    return out;
  }
}
