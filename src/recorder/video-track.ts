/**
 * One H.264 track (camera or share) written as fragmented MP4 with mp4-muxer: starts at the first
 * keyframe (earlier frames are counted as skipped), times frames by their timestamps, and starts a
 * new file segment when the resolution changes. Fragments are appended as they are produced, so a
 * killed process leaves a playable file up to the last fragment.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Muxer, StreamTarget } from 'mp4-muxer';
import { avcC, avcCodecString, nalType, nalUnits, spsDimensions, toAvcc } from '../media/h264.js';

export interface VideoSegment {
  path: string;
  width: number;
  height: number;
  frames: number;
  durationMs: number;
}

interface Pending {
  data: Uint8Array;
  key: boolean;
  timestamp: number;
}

export class VideoTrack {
  readonly segments: VideoSegment[] = [];
  skipped = 0;
  #muxer?: Muxer<StreamTarget>;
  #fd?: number;
  #segment?: VideoSegment;
  #firstTs = 0;
  #pending?: Pending;
  #meta?: { decoderConfig: { codec: string; codedWidth: number; codedHeight: number; description: Uint8Array } };

  /** `pathFor(n)` names segment n (0 = the first file). */
  constructor(private readonly pathFor: (segment: number) => string) {}

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
    this.#push({ data: toAvcc(units), key, timestamp });
  }

  /** Writes the last frame and finalizes the current file. */
  close(): void {
    this.#endSegment();
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
    const fd = openSync(path, 'w');
    this.#fd = fd;
    this.#muxer = new Muxer({
      target: new StreamTarget({ onData: (data, position) => writeSync(fd, data, 0, data.length, position) }),
      video: { codec: 'avc', width, height },
      fastStart: 'fragmented',
      firstTimestampBehavior: 'offset',
      minFragmentDuration: 1,
    });
    this.#meta = { decoderConfig: { codec: avcCodecString(sps), codedWidth: width, codedHeight: height, description: avcC(sps, pps) } };
    this.#firstTs = timestamp;
    this.#segment = { path, width, height, frames: 0, durationMs: 0 };
    this.segments.push(this.#segment);
  }

  #endSegment(): void {
    if (!this.#muxer) return;
    const last = this.#pending;
    this.#pending = undefined;
    if (last) this.#write(last, this.#segment!.frames > 0 ? Math.max(1, Math.round(this.#segment!.durationMs / this.#segment!.frames)) : 40);
    this.#muxer.finalize();
    closeSync(this.#fd!);
    this.#muxer = undefined;
    this.#fd = undefined;
  }
}
