/**
 * A minimal FLV writer for one H.264 video track, used as ffmpeg's video input: FLV carries an
 * explicit millisecond timestamp per frame, so the RTMS capture times reach ffmpeg unchanged (raw
 * Annex B on a pipe has none, and ffmpeg would invent them from a nominal frame rate). Pure, no I/O.
 *
 * Layout (FLV spec v10.1, E.4): header `FLV\x01` flags=video, then tags; each tag is an 11-byte
 * header (type 9, 24-bit size, 24+8-bit timestamp, stream id 0), a 5-byte AVC video header
 * (frame type + codec 7, AVCPacketType, composition time 0) and the payload, then the 4-byte size
 * of the tag just written.
 */
import { avcC, nalType, nalUnits, toAvcc } from '../media/h264.js';

/** The file header and the zero "previous tag size" that follows it. */
export function flvHeader(): Buffer {
  // flags 0x01: video only (the audio goes to ffmpeg as PCM on another pipe).
  return Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00]);
}

function videoTag(payload: Uint8Array, timestampMs: number, keyframe: boolean, packetType: 0 | 1): Buffer {
  const dataSize = 5 + payload.length;
  const out = Buffer.allocUnsafe(11 + dataSize + 4);
  const ts = Math.max(0, Math.round(timestampMs)) >>> 0;
  out[0] = 9;
  out.writeUIntBE(dataSize, 1, 3);
  out.writeUIntBE(ts & 0xffffff, 4, 3);
  out[7] = (ts >>> 24) & 0xff;
  out.writeUIntBE(0, 8, 3);
  out[11] = ((keyframe ? 1 : 2) << 4) | 7;
  out[12] = packetType;
  out.writeUIntBE(0, 13, 3); // composition time: RTMS H.264 has no B-frames, so pts = dts
  out.set(payload, 16);
  out.writeUInt32BE(11 + dataSize, 16 + payload.length);
  return out;
}

/** An access unit as FLV video tags, plus what a sender needs to decide about it. */
export interface FlvFrame {
  keyframe: boolean;
  /** The tags to write (a sequence header first when the SPS/PPS changed), or undefined for an empty AU. */
  tags?: Buffer;
}

/**
 * Turns Annex B access units into FLV tags. Emits an AVC sequence header (the avcC record) before
 * the first keyframe and again whenever the SPS or PPS changes (a new resolution after a speaker
 * switch), which ffmpeg passes on as new extradata.
 */
export class FlvVideoWriter {
  #sps?: Uint8Array;
  #pps?: Uint8Array;

  /** Forget the parameter sets (a new ffmpeg run needs the sequence header again). */
  reset(): void {
    this.#sps = undefined;
    this.#pps = undefined;
  }

  /** Whether an Annex B access unit contains an IDR slice. */
  static isKeyframe(au: Uint8Array): boolean {
    for (const u of nalUnits(au)) if (nalType(u) === 5) return true;
    return false;
  }

  /** `timestampMs` is relative to the run's origin. */
  frame(au: Uint8Array, timestampMs: number): FlvFrame {
    const units = nalUnits(au);
    let keyframe = false;
    let sps: Uint8Array | undefined;
    let pps: Uint8Array | undefined;
    for (const u of units) {
      const t = nalType(u);
      if (t === 5) keyframe = true;
      else if (t === 7) sps ??= u;
      else if (t === 8) pps ??= u;
    }
    const parts: Buffer[] = [];
    if (sps && pps && !(this.#sps && equal(sps, this.#sps) && this.#pps && equal(pps, this.#pps))) {
      this.#sps = Uint8Array.from(sps);
      this.#pps = Uint8Array.from(pps);
      parts.push(videoTag(avcC(sps, pps), timestampMs, true, 0));
    }
    const body = toAvcc(units);
    if (body.length === 0) return { keyframe, tags: parts.length ? parts[0] : undefined };
    parts.push(videoTag(body, timestampMs, keyframe, 1));
    return { keyframe, tags: parts.length === 1 ? parts[0] : Buffer.concat(parts) };
  }

  /** Whether a sequence header has been written (a keyframe without SPS/PPS cannot start a run). */
  get configured(): boolean {
    return this.#sps !== undefined;
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
