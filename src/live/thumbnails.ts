/**
 * Thumbnails for the live feed: the latest still image per stream and kind (camera video, screen
 * share). JPG/PNG frames are kept as they come; H.264 keyframes are decoded to JPEG by an `ffmpeg`
 * child process when one is on PATH; without ffmpeg they become one-frame MP4s that the browser
 * decodes itself. At most once per second per stream and kind, off the frame handler's turn.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fragment, initSegment } from '../media/fmp4.js';
import { nalType, nalUnits as splitNals, spsDimensions, toAvcc } from '../media/h264.js';

export type ThumbnailKind = 'video' | 'deskshare';

export interface Thumbnail {
  data: Buffer;
  /** `video/mp4`: a one-frame MP4 of an H.264 keyframe, for the browser to decode (no ffmpeg here). */
  contentType: 'image/jpeg' | 'image/png' | 'video/mp4';
  userId: string;
  /** When it was produced (ms since epoch). */
  timestamp: number;
}

/** The latest thumbnail per stream and kind, for the most recent `maxStreams` streams. */
export class ThumbnailStore {
  #items = new Map<string, Thumbnail>();
  constructor(private readonly maxEntries = 512) {}

  set(streamId: string, kind: ThumbnailKind, t: Thumbnail): void {
    const key = `${kind}\u0000${streamId}`;
    this.#items.delete(key); // re-insert: most recent last
    this.#items.set(key, t);
    if (this.#items.size > this.maxEntries) this.#items.delete(this.#items.keys().next().value!);
  }

  get(streamId: string, kind: ThumbnailKind): Thumbnail | undefined {
    return this.#items.get(`${kind}\u0000${streamId}`);
  }

  /** Drops the stream's thumbnails (the stream was deleted); how many there were. */
  forget(streamId: string): number {
    let n = 0;
    for (const k of ['video', 'deskshare'] as const) if (this.#items.delete(`${k}\u0000${streamId}`)) n++;
    return n;
  }

  kinds(streamId: string): ThumbnailKind[] {
    return (['video', 'deskshare'] as const).filter((k) => this.#items.has(`${k}\u0000${streamId}`));
  }
}

/** What a video frame holds: a JPEG, a PNG, or (otherwise) H.264. */
export function imageType(data: Uint8Array): 'image/jpeg' | 'image/png' | undefined {
  if (data.length > 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  if (data.length > 8 && data[0] === 0x89 && data[1] === 0x50 && data[2] === 0x4e && data[3] === 0x47) return 'image/png';
  return undefined;
}

/** NAL units of an Annex B access unit: [start of NAL header, end) pairs with their type. */
function* nalUnits(data: Uint8Array): Generator<{ type: number; begin: number; end: number }> {
  let begin = -1;
  let type = 0;
  for (let i = 0; i + 2 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (begin >= 0) yield { type, begin, end: i > 0 && data[i - 1] === 0 ? i - 1 : i };
      begin = i + 3;
      type = data[begin] & 0x1f;
      i += 2;
    }
  }
  if (begin >= 0 && begin < data.length) yield { type, begin, end: data.length };
}

/** Facts about an H.264 access unit: does it hold an IDR slice, an SPS and a PPS. */
export function h264Info(data: Uint8Array): { idr: boolean; sps: boolean; pps: boolean } {
  const out = { idr: false, sps: false, pps: false };
  for (const n of nalUnits(data)) {
    if (n.type === 5) out.idr = true;
    else if (n.type === 7) out.sps = true;
    else if (n.type === 8) out.pps = true;
  }
  return out;
}

/** The SPS and PPS NAL units of an access unit, with start codes (a copy), or undefined. */
export function parameterSets(data: Uint8Array): Buffer | undefined {
  const parts: Buffer[] = [];
  for (const n of nalUnits(data)) if (n.type === 7 || n.type === 8) parts.push(Buffer.from([0, 0, 0, 1]), Buffer.from(data.subarray(n.begin, n.end)));
  return parts.length ? Buffer.concat(parts) : undefined;
}

/** A one-frame fragmented MP4 of an H.264 keyframe (Annex B, with SPS and PPS), or undefined without them. */
export function keyframeMp4(keyframe: Uint8Array): Buffer | undefined {
  const units = splitNals(keyframe);
  const sps = units.find((u) => nalType(u) === 7);
  const pps = units.find((u) => nalType(u) === 8);
  if (!sps || !pps || !units.some((u) => nalType(u) === 5)) return undefined;
  const { width, height } = spsDimensions(sps);
  return Buffer.concat([initSegment({ width, height, sps, pps }), fragment({ sequence: 1, decodeTime: 0, duration: 40, key: true, data: toAvcc(units) })]);
}

let ffmpegPath: string | false | undefined;
/** Absolute path of `ffmpeg` on PATH, or false. Looked up once. */
export function findFfmpeg(): string | false {
  if (ffmpegPath !== undefined) return ffmpegPath;
  ffmpegPath = false;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, process.platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg');
    try {
      accessSync(p, constants.X_OK);
      ffmpegPath = p;
      break;
    } catch {
      /* not here */
    }
  }
  return ffmpegPath;
}

/** Decodes one H.264 keyframe (Annex B, with SPS/PPS) to a JPEG at most `width` wide. */
export function h264ToJpeg(ffmpeg: string, keyframe: Buffer, opts: { width?: number; timeoutMs?: number } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const args = ['-hide_banner', '-loglevel', 'error', '-f', 'h264', '-i', 'pipe:0', '-frames:v', '1', '-vf', `scale='min(${opts.width ?? 480},iw)':-2`, '-f', 'image2', '-c:v', 'mjpeg', '-q:v', '5', 'pipe:1'];
    const child = spawn(ffmpeg, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 5000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()).length > 2000 && (err = err.slice(-2000)));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const jpeg = Buffer.concat(out);
      if (code === 0 && imageType(jpeg) === 'image/jpeg') resolve(jpeg);
      else reject(new Error(`ffmpeg exited ${code}: ${err.trim().split('\n').pop() ?? 'no image'}`));
    });
    child.stdin.on('error', () => {}); // ffmpeg may exit before reading everything
    child.stdin.end(keyframe);
  });
}
