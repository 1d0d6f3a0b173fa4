/**
 * One ffmpeg run that pushes to an RTMP URL: H.264 in FLV on stdin (video copied, not re-encoded)
 * and s16le PCM on fd 3 (encoded to AAC). Timing: the FLV tags carry the RTMS capture time of each
 * frame and the PCM is sample-continuous from the same origin (gaps filled with silence before it
 * gets here), so `-copyts` keeps both on one clock: ffmpeg neither re-stamps by arrival time
 * (`-use_wallclock_as_timestamps` would add pipe and scheduling jitter to every frame) nor shifts each
 * input to start at zero (which would move the video by the time waited for its first keyframe).
 *
 * Writes go through Node's stream buffers; callers read `videoBytes`/`audioBytes` to bound them.
 * The URL is passed to ffmpeg as an argument only; everything this module reports is masked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';

export interface FfmpegRunOptions {
  ffmpegPath: string;
  url: string;
  /** With video: FLV on stdin. Without: audio only. */
  video: boolean;
  sampleRate: number;
  channels: number;
  /** AAC bitrate, bits/s. Default 128 k. */
  audioBitrate?: number;
}

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT: not installed). */
  spawnError?: NodeJS.ErrnoException;
  /** The last lines ffmpeg wrote to stderr, with the stream key masked. */
  stderrTail: string;
}

/** The arguments of one run (exported for the tests and the docs). */
export function ffmpegArgs(o: FfmpegRunOptions): string[] {
  const audioIn = ['-thread_queue_size', '1024', '-probesize', '32', '-analyzeduration', '0', '-f', 's16le', '-ar', String(o.sampleRate), '-ac', String(o.channels), '-i', 'pipe:3'];
  // Probing stays minimal on both inputs: the FLV sequence header and the PCM flags already say
  // everything, and ffmpeg opens the RTMP output only after probing. By default it reads seconds of
  // each input first (measured: the server saw the stream 2.2 s after the first keyframe, 0.4 s now),
  // and waits for good when the camera goes off within them.
  const videoIn = ['-thread_queue_size', '1024', '-probesize', '32', '-analyzeduration', '0', '-f', 'flv', '-i', 'pipe:0'];
  return [
    '-hide_banner',
    '-loglevel',
    'warning',
    ...(o.video ? [] : ['-nostdin']),
    // Our timestamps are the truth: keep them, and never drop or duplicate frames to fit a rate.
    '-copyts',
    ...(o.video ? videoIn : []),
    ...audioIn,
    ...(o.video ? ['-map', '0:v:0', '-map', '1:a:0', '-c:v', 'copy'] : ['-map', '0:a:0']),
    // 48 kHz stereo AAC-LC is what YouTube and Twitch ask for, whatever RTMS granted.
    '-c:a',
    'aac',
    // The default two-loop coder costs ~2.5x the CPU (bench/rtmp.ts: ~74 vs ~29 ms per stream-second);
    // for meeting speech at 128 kb/s we take the fast coder's small quality loss.
    '-aac_coder',
    'fast',
    '-b:a',
    String(o.audioBitrate ?? 128_000),
    '-ar',
    '48000',
    '-ac',
    '2',
    // A camera that stops (video off, a pause) must not hold the audio back for long.
    '-max_interleave_delta',
    '1000000',
    '-flvflags',
    'no_duration_filesize',
    '-f',
    'flv',
    o.url,
  ];
}

/** Replaces the stream key (last path segment and any query) of an RTMP URL with `***`. */
export function maskUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]*)(\/.*)?$/i.exec(url);
  if (!m) return '***';
  const path = (m[2] ?? '').replace(/[?#].*$/, '');
  const cut = path.lastIndexOf('/');
  if (cut < 0 || cut === path.length - 1 && path.length <= 1) return `${m[1]}/***`;
  return `${m[1]}${path.slice(0, cut)}/***`;
}

/** The parts of a URL that must never reach a log: the last path segment and the query. */
function secretsOf(url: string): string[] {
  const noQuery = url.replace(/[?#].*$/, '');
  const key = noQuery.slice(noQuery.lastIndexOf('/') + 1);
  const query = url.slice(noQuery.length + 1);
  return [url, key, query].filter((s) => s.length >= 4);
}

export class FfmpegRun {
  readonly exited: Promise<FfmpegExit>;
  readonly startedAt = Date.now();
  #child: ChildProcess;
  #video?: Writable;
  #audio: Writable;
  #stderr = '';
  #secrets: string[];
  #ended = false;
  #done = false;

  constructor(o: FfmpegRunOptions) {
    this.#secrets = secretsOf(o.url);
    this.#child = spawn(o.ffmpegPath, ffmpegArgs(o), { stdio: [o.video ? 'pipe' : 'ignore', 'ignore', 'pipe', 'pipe'] });
    this.#video = o.video ? (this.#child.stdin ?? undefined) : undefined;
    this.#audio = this.#child.stdio[3] as Writable;
    // A dead ffmpeg turns writes into EPIPE: the exit below is what reports it.
    this.#video?.on('error', ignore);
    this.#audio.on('error', ignore);
    this.#child.stderr!.setEncoding('utf8');
    this.#child.stderr!.on('data', (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-2048);
    });
    this.exited = new Promise((resolve) => {
      this.#child.once('error', (err: NodeJS.ErrnoException) => {
        // Only a failed spawn leaves no exit event to wait for.
        if (this.#child.pid === undefined) this.#finish(resolve, { code: null, signal: null, spawnError: err });
      });
      this.#child.once('close', (code, signal) => this.#finish(resolve, { code, signal }));
    });
  }

  #finish(resolve: (e: FfmpegExit) => void, e: Omit<FfmpegExit, 'stderrTail'>): void {
    if (this.#done) return;
    this.#done = true;
    const lines = this.#stderr.trim().split('\n').filter((l) => l && !NOISE.test(l));
    resolve({ ...e, stderrTail: this.#mask(lines.slice(-3).join(' | ')) });
  }

  #mask(text: string): string {
    let out = text;
    for (const s of this.#secrets) out = out.split(s).join('***');
    return out;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }
  get alive(): boolean {
    return !this.#done;
  }
  /** Stopped or killed by us, or gone: writes are no longer taken. */
  get ending(): boolean {
    return this.#ended || this.#done;
  }
  /** Bytes waiting in Node's buffer of each pipe (not yet taken by the OS). */
  get videoBytes(): number {
    return this.#video?.writableLength ?? 0;
  }
  get audioBytes(): number {
    return this.#audio.writableLength;
  }

  /** `done` is one bound function per sink (no closure per frame): called when the OS took the bytes. */
  writeVideo(data: Uint8Array, done?: (err?: Error | null) => void): void {
    if (!this.#ended && this.#video?.writable) this.#video.write(data, done);
  }
  writeAudio(data: Uint8Array, done?: (err?: Error | null) => void): void {
    if (!this.#ended && this.#audio.writable) this.#audio.write(data, done);
  }

  /**
   * Graceful stop: closes both inputs so ffmpeg flushes the AAC encoder and the FLV trailer, then
   * SIGTERM after `timeoutMs`, SIGKILL 2 s later. Resolves when the process is gone.
   */
  async stop(timeoutMs: number): Promise<FfmpegExit> {
    if (!this.#ended) {
      this.#ended = true;
      this.#video?.end();
      this.#audio.end();
    }
    let t1: NodeJS.Timeout | undefined;
    let t2: NodeJS.Timeout | undefined;
    if (this.alive) {
      t1 = setTimeout(() => this.#child.kill('SIGTERM'), timeoutMs);
      t2 = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs + 2000);
    }
    try {
      return await this.exited;
    } finally {
      clearTimeout(t1);
      clearTimeout(t2);
    }
  }

  /** Immediate kill (a stalled ffmpeg). */
  kill(): void {
    this.#ended = true;
    if (this.alive) this.#child.kill('SIGKILL');
  }
}

function ignore(): void {}

/** Warnings every run prints (minimal probing, mono PCM): not what went wrong. */
const NOISE = /not enough frames to estimate rate|Guessed Channel Layout/;
