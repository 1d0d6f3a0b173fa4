/**
 * The emulator's bundled media: real speech (espeak-ng, 16 kHz mono), short H.264 clips and
 * JPG/PNG frames, made by scripts/make-speech.sh and scripts/make-video.sh. Loaded lazily, cached.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SpeechLine {
  speaker: string;
  user_id: number;
  text: string;
  offset_samples: number;
  length_samples: number;
}

export interface H264Clip {
  width: number;
  height: number;
  fps: number;
  accessUnits: { data: Buffer; keyframe: boolean }[];
}

/** The assets folder: `../../assets` from this module, in src/ (tsx) and in dist/ alike. */
export function assetsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'assets');
    if (existsSync(join(candidate, 'speech'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('openrtms assets folder not found (expected assets/ at the package root)');
}

let speech: { pcm: Int16Array; lines: SpeechLine[] } | undefined;
/** Speech as 16 kHz mono PCM plus the lines spoken (exact text, speaker, sample range). */
export function loadSpeech(): { pcm: Int16Array; lines: SpeechLine[] } {
  if (!speech) {
    const dir = join(assetsDir(), 'speech');
    const raw = readFileSync(join(dir, 'lines.pcm'));
    const pcm = new Int16Array(raw.length >> 1);
    for (let i = 0; i < pcm.length; i++) pcm[i] = raw.readInt16LE(i * 2);
    speech = { pcm, lines: JSON.parse(readFileSync(join(dir, 'lines.json'), 'utf8')) as SpeechLine[] };
  }
  return speech;
}

const CLIPS = { camera: { width: 640, height: 360, fps: 25 }, share: { width: 1280, height: 720, fps: 5 } } as const;
const clipCache = new Map<string, H264Clip>();

/** An H.264 clip split into access units (Annex B, each IDR unit carries SPS/PPS). */
export function loadH264(name: 'camera' | 'share'): H264Clip {
  let clip = clipCache.get(name);
  if (!clip) {
    const data = readFileSync(join(assetsDir(), 'video', `${name}.h264`));
    clip = { ...CLIPS[name], accessUnits: splitAccessUnits(data) };
    clipCache.set(name, clip);
  }
  return clip;
}

/** Splits an Annex B stream at access unit delimiters (NAL type 9); marks units holding an IDR slice. */
export function splitAccessUnits(stream: Buffer): { data: Buffer; keyframe: boolean }[] {
  const starts: { pos: number; type: number }[] = [];
  for (let i = 0; i + 3 < stream.length; i++) {
    if (stream[i] === 0 && stream[i + 1] === 0 && (stream[i + 2] === 1 || (stream[i + 2] === 0 && stream[i + 3] === 1))) {
      const header = stream[i + 2] === 1 ? i + 3 : i + 4;
      starts.push({ pos: i, type: stream[header] & 0x1f });
      i = header;
    }
  }
  const units: { data: Buffer; keyframe: boolean }[] = [];
  let begin = -1;
  let keyframe = false;
  for (const s of starts) {
    if (s.type === 9) {
      if (begin >= 0) units.push({ data: stream.subarray(begin, s.pos), keyframe });
      begin = s.pos;
      keyframe = false;
    } else if (s.type === 5) keyframe = true;
  }
  if (begin >= 0) units.push({ data: stream.subarray(begin), keyframe });
  return units;
}

const frameCache = new Map<string, Buffer[]>();
/** Still frames: camera JPGs (320x180) or share PNGs (640x360). */
export function loadFrames(kind: 'jpg' | 'png'): Buffer[] {
  let frames = frameCache.get(kind);
  if (!frames) {
    const prefix = kind === 'jpg' ? 'camera' : 'share';
    frames = [0, 1, 2, 3, 4].map((i) => readFileSync(join(assetsDir(), 'frames', `${prefix}-${i}.${kind}`)));
    frameCache.set(kind, frames);
  }
  return frames;
}
