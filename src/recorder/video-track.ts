/**
 * One H.264 track (camera or share) written as fragmented MP4 with mp4-muxer: starts at the first
 * keyframe (earlier frames are counted as skipped), times frames by their timestamps, and starts a
 * new file segment when the resolution changes. Fragments are written asynchronously as they are
 * produced (the socket reader never waits on the disk; a backlog beyond `maxQueuedBytes` drops
 * frames and counts them), so a killed process leaves a playable file up to the last fragment.
 *
 * A write that fails (disk full, file too large) never leaves a hole: the file is cut back to the end
 * of the last fragment that was written whole (each muxer flush is one fragment), nothing more goes
 * into it, and its segment says how much it really holds. Frames are then dropped; at the first
 * keyframe at least `retryMs` later a new segment file starts (the next `pathFor` number), and the
 * time in between is a gap in `gaps`. A new segment that cannot be written either is removed and the
 * gap goes on.
 */
import { open, rm } from 'node:fs/promises';
import { Muxer, StreamTarget } from 'mp4-muxer';
import { avcC, avcCodecString, nalType, nalUnits, spsDimensions, toAvcc } from '../media/h264.js';

export interface VideoSegment {
  path: string;
  width: number;
  height: number;
  frames: number;
  durationMs: number;
  /** Zoom's timestamp (ms) of the segment's first frame, to line it up with the audio in a replay. */
  startTimestamp: number;
}

interface Pending {
  data: Uint8Array;
  key: boolean;
  timestamp: number;
}

/** Video that is not in the files because the disk refused it: from `atTs` (Zoom ms) for `durationMs` (absent while it lasts). */
export interface VideoGap {
  atTs: number;
  durationMs?: number;
}

export interface VideoTrackOptions {
  /** Backlog of unwritten bytes beyond which frames are dropped. Default 32 MiB. */
  maxQueuedBytes?: number;
  /** After a failed write, the shortest time (frame timestamps, ms) before a new file is tried. Default 1000. */
  retryMs?: number;
  /** Told of each failed write (the recorder counts it and reports the first). */
  onWriteError?: (err: unknown, path: string) => void;
}

export class VideoTrack {
  readonly segments: VideoSegment[] = [];
  skipped = 0;
  /** Frames dropped because the disk fell behind. */
  dropped = 0;
  /** Frames lost because the disk refused them (full, file too large), counted from the last fragment on disk. */
  lostToWriteErrors = 0;
  /** Periods whose video is not in the files because writes failed. */
  readonly gaps: VideoGap[] = [];
  #failed = false;
  #retryAt = 0;
  #sps?: Uint8Array;
  #pps?: Uint8Array;
  readonly #retryMs: number;
  readonly #onWriteError?: (err: unknown, path: string) => void;
  readonly maxQueuedBytes: number;
  #muxer?: Muxer<StreamTarget>;
  #writes: Promise<void> = Promise.resolve();
  #queued = 0;
  #closeFile?: () => void;
  #dropping = false;
  #segment?: VideoSegment;
  #firstTs = 0;
  #pending?: Pending;
  #meta?: { decoderConfig: { codec: string; codedWidth: number; codedHeight: number; description: Uint8Array } };

  /** `pathFor(n)` names segment n (0 = the first file). */
  constructor(
    private readonly pathFor: (segment: number) => string,
    options: VideoTrackOptions | number = {},
  ) {
    const o = typeof options === 'number' ? { maxQueuedBytes: options } : options;
    this.maxQueuedBytes = o.maxQueuedBytes ?? 32 << 20;
    this.#retryMs = o.retryMs ?? 1000;
    this.#onWriteError = o.onWriteError;
  }

  /** Adds one Annex B access unit stamped with Zoom's timestamp (ms). */
  add(au: Uint8Array, timestamp: number): void {
    const units = nalUnits(au);
    const key = units.some((u) => nalType(u) === 5);
    const sps = units.find((u) => nalType(u) === 7);
    const pps = units.find((u) => nalType(u) === 8);
    if (sps && pps) {
      this.#sps = sps;
      this.#pps = pps;
    }
    if (this.#failed) {
      // The disk refused a write: nothing goes out until a keyframe, at least retryMs later, starts a new file.
      if (!key || timestamp < this.#retryAt || !this.#sps || !this.#pps) {
        this.lostToWriteErrors++;
        return;
      }
      this.#failed = false;
      const { width, height } = spsDimensions(this.#sps);
      this.#startSegment(width, height, this.#sps, this.#pps, timestamp);
      const gap = this.gaps.at(-1);
      if (gap && gap.durationMs === undefined) gap.durationMs = Math.max(0, timestamp - gap.atTs);
    } else if (key && sps && pps) {
      const { width, height } = spsDimensions(sps);
      if (!this.#segment || width !== this.#segment.width || height !== this.#segment.height) this.#startSegment(width, height, sps, pps, timestamp);
    }
    if (!this.#segment) {
      this.skipped++;
      return;
    }
    // Behind on the disk: drop until the next keyframe (a delta frame alone cannot be decoded).
    if (this.#queued > this.maxQueuedBytes) this.#dropping = true;
    if (this.#dropping && !key) {
      this.dropped++;
      return;
    }
    this.#dropping = false;
    this.#push({ data: toAvcc(units), key, timestamp });
  }

  /** Writes the last frame, finalizes the current file and waits for the disk. */
  async close(): Promise<void> {
    this.#endSegment();
    await this.#writes;
    // A gap still open at the end lasts until the last frame given (lost frames are not in any file).
    const gap = this.gaps.at(-1);
    if (gap && gap.durationMs === undefined) gap.durationMs = Math.max(0, this.#lastTs - gap.atTs);
  }

  #lastTs = 0;

  #push(frame: Pending): void {
    this.#lastTs = frame.timestamp;
    const prev = this.#pending;
    this.#pending = frame;
    if (prev) this.#write(prev, Math.max(1, frame.timestamp - prev.timestamp));
  }

  #write(f: Pending, durationMs: number): void {
    const meta = this.#meta;
    this.#meta = undefined; // the decoder configuration goes with the first chunk only
    this.#muxer!.addVideoChunkRaw(f.data, f.key ? 'key' : 'delta', (f.timestamp - this.#firstTs) * 1000, durationMs * 1000, meta as never);
    this.#segment!.frames++;
    this.#segment!.durationMs = f.timestamp - this.#firstTs + durationMs;
  }

  #startSegment(width: number, height: number, sps: Uint8Array, pps: Uint8Array, timestamp: number): void {
    this.#endSegment();
    const path = this.pathFor(this.#fileNumber++);
    const segment: VideoSegment = { path, width, height, frames: 0, durationMs: 0, startTimestamp: timestamp };
    const file = open(path, 'w');
    file.catch(() => {}); // reported by the first write
    /** What of this segment is on disk: whole fragments only, and the frames and time they hold. */
    const onDisk = { bytes: 0, frames: 0, durationMs: 0 };
    let dead = false;
    const write = (data: Uint8Array, position: number) => {
      if (dead) return; // after a failure nothing more goes into this file
      const copy = Uint8Array.from(data); // the muxer may reuse its buffer
      // The frames this fragment completes (the muxer flushes after muxing them).
      const holds = { frames: segment.frames, durationMs: segment.durationMs };
      this.#queued += copy.length;
      this.#writes = this.#writes
        .then(async () => {
          if (dead) return;
          const fh = await file;
          let done = 0;
          while (done < copy.length) done += (await fh.write(copy, done, copy.length - done, position + done)).bytesWritten;
          onDisk.bytes = Math.max(onDisk.bytes, position + copy.length);
          onDisk.frames = Math.max(onDisk.frames, holds.frames);
          onDisk.durationMs = Math.max(onDisk.durationMs, holds.durationMs);
        })
        .catch(async (err) => {
          if (dead) return;
          dead = true;
          this.#writeFailed(segment, onDisk, err);
          // Cut back to the last whole fragment: a player never meets a hole or half a box.
          const fh = await file.catch(() => undefined);
          await fh?.truncate(onDisk.bytes).catch(() => {});
          await fh?.close().catch(() => {});
          if (onDisk.bytes === 0) await rm(path, { force: true }).catch(() => {});
        })
        .finally(() => void (this.#queued -= copy.length));
    };
    this.#closeFile = () => {
      this.#writes = this.#writes.then(async () => (dead ? undefined : (await file).close())).catch(() => {});
    };
    this.#muxer = new Muxer({
      target: new StreamTarget({ onData: write }),
      video: { codec: 'avc', width, height },
      fastStart: 'fragmented',
      firstTimestampBehavior: 'offset',
      minFragmentDuration: 1,
    });
    this.#meta = { decoderConfig: { codec: avcCodecString(sps), codedWidth: width, codedHeight: height, description: avcC(sps, pps) } };
    this.#firstTs = timestamp;
    this.#segment = segment;
    this.segments.push(segment);
  }

  #fileNumber = 0;

  /** A write of `segment` failed: what is on disk is all it holds; frames from here on are lost until a new file starts. */
  #writeFailed(segment: VideoSegment, onDisk: { bytes: number; frames: number; durationMs: number }, err: unknown): void {
    this.#onWriteError?.(err, segment.path);
    this.lostToWriteErrors += segment.frames - onDisk.frames;
    const firstTs = segment === this.#segment ? this.#firstTs : undefined;
    segment.frames = onDisk.frames;
    segment.durationMs = onDisk.durationMs;
    if (onDisk.bytes === 0) this.segments.splice(this.segments.indexOf(segment), 1);
    const gapStart = (firstTs ?? segment.startTimestamp ?? this.#lastTs) + onDisk.durationMs;
    const open = this.gaps.at(-1);
    if (open && onDisk.frames === 0 && open.durationMs !== undefined && open.atTs + open.durationMs === segment.startTimestamp) {
      open.durationMs = undefined; // the file that was to end the gap got nothing: the gap goes on
    } else if (segment !== this.#segment && this.#segment) {
      // A later file (a resolution change) is being written already: the gap ends where it starts.
      this.gaps.push({ atTs: gapStart, durationMs: Math.max(0, (this.#segment?.startTimestamp ?? gapStart) - gapStart) });
    } else this.gaps.push({ atTs: gapStart });
    if (segment === this.#segment) {
      // This segment's muxer goes away unfinished (finalizing would only write into the dead file).
      this.#muxer = undefined;
      this.#closeFile = undefined;
      this.#segment = undefined;
      if (this.#pending) this.lostToWriteErrors++; // muxed by nobody now
      this.#pending = undefined;
      this.#failed = true;
      this.#retryAt = this.#lastTs + this.#retryMs;
    }
  }

  /** First timestamp of each segment (a failure is reported after its segment may have ended). */

  #endSegment(): void {
    if (!this.#muxer) return;
    const last = this.#pending;
    this.#pending = undefined;
    if (last) this.#write(last, this.#segment!.frames > 0 ? Math.max(1, Math.round(this.#segment!.durationMs / this.#segment!.frames)) : 40);
    this.#muxer.finalize();
    this.#closeFile?.();
    this.#muxer = undefined;
    this.#closeFile = undefined;
  }
}
