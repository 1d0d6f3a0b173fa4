/**
 * One H.264 track (camera or share) written as fragmented MP4 with mp4-muxer: starts at the first
 * keyframe (earlier frames are counted as skipped), times frames by their timestamps, and starts a
 * new file segment when the resolution changes. Fragments are written asynchronously as they are
 * produced (the socket reader never waits on the disk; a backlog beyond `maxQueuedBytes` drops
 * frames and counts them), so a killed process leaves a playable file up to the last fragment.
 */
import { open } from 'node:fs/promises';
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

export class VideoTrack {
  readonly segments: VideoSegment[] = [];
  skipped = 0;
  /** Frames dropped because the disk fell behind. */
  dropped = 0;
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
    private readonly maxQueuedBytes = 32 << 20,
  ) {}

  /** Adds one Annex B access unit stamped with Zoom's timestamp (ms). */
  add(au: Uint8Array, timestamp: number): void {
    const units = nalUnits(au);
    const key = units.some((u) => nalType(u) === 5);
    const sps = units.find((u) => nalType(u) === 7);
    const pps = units.find((u) => nalType(u) === 8);
    if (key && sps && pps) {
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
  }

  #push(frame: Pending): void {
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
    const path = this.pathFor(this.segments.length);
    const file = open(path, 'w');
    const write = (data: Uint8Array, position: number) => {
      const copy = Uint8Array.from(data); // the muxer may reuse its buffer
      this.#queued += copy.length;
      this.#writes = this.#writes
        .then(async () => {
          await (await file).write(copy, 0, copy.length, position);
        })
        .catch(() => void this.dropped++)
        .finally(() => void (this.#queued -= copy.length));
    };
    this.#closeFile = () => {
      this.#writes = this.#writes.then(async () => (await file).close()).catch(() => {});
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
    this.#segment = { path, width, height, frames: 0, durationMs: 0, startTimestamp: timestamp };
    this.segments.push(this.#segment);
  }

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
