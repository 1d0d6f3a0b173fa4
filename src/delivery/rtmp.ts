/**
 * RTMP restream destination: one ffmpeg per stream pushes the active-speaker camera (H.264 copied)
 * and the mixed audio (decoded here to PCM, AAC-encoded by ffmpeg) to the configured URL.
 *
 * Lifecycle of a stream's sink: `idle` → `waiting` (holding audio until the first keyframe, or for
 * `videoWaitMs` of audio when the stream may have no video) → `running` → on an unexpected ffmpeg
 * exit `backoff` (0.5 s doubling to 10 s) → `waiting` again (the new run starts at the next
 * keyframe) … → `closed` by `close()` (inputs closed so ffmpeg flushes, killed after a timeout).
 * `failed` when ffmpeg cannot be started at all or keeps dying: the stream and the other sinks go on.
 *
 * Timing (see ffmpeg.ts): one origin per run (its first media timestamp); video FLV tags are
 * stamped `timestamp − origin` and the PCM is placed sample-exact by the same timestamps with a
 * GapFiller, silence filling the gaps (and, from a timer, a mixed track that went quiet), so the
 * AAC track stays continuous and ffmpeg, with `-copyts`, keeps audio and video on one clock.
 *
 * Frame handlers never block: Node's pipe buffers are the queues, bounded here — video over its
 * bound is dropped until the next keyframe (counted); audio over its bound means ffmpeg is stuck,
 * so the run is killed and restarted (counted).
 */
import type { MediaParams } from '../protocol/index.js';
import { Codec, DataOption, SAMPLE_RATE_HZ, type SampleRate } from '../protocol/index.js';
import { createAudioDecoder, type AudioDecoder } from '../media/codec.js';
import { GapFiller } from '../media/gap-filler.js';
import { OpenRtmsError } from '../errors.js';
import type { AudioFrame, StreamInfo, StreamSink, TimelineEvent, VideoFrame } from '../pipeline/types.js';
import type { DeliveryStream, DeliveryEventType, Destination, DestinationStats, RtmpDestinationConfig } from './types.js';
import { matchesFilter } from './match.js';
import { FfmpegRun, maskUrl, type FfmpegExit } from './ffmpeg.js';
import { FlvVideoWriter, flvHeader } from './flv.js';

/** pino-compatible; the server passes its logger. */
export interface DeliveryLogger {
  /** Falls back to `warn` when absent. */
  error?(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

export interface RtmpTuning {
  /** How much audio (ms of RTMS time) is held waiting for a first keyframe before going audio-only. Default 3000. */
  videoWaitMs: number;
  /** Video older than this in the pipe buffer makes the sink drop to the next keyframe. Default 2000. */
  maxVideoQueueMs: number;
  /** …or more bytes than this. Default 16 MiB. */
  maxVideoQueueBytes: number;
  /** Audio buffered for longer than this means ffmpeg stopped reading: the run is killed and restarted. Default 10000. */
  maxAudioQueueMs: number;
  /** First restart delay, doubling to `maxBackoffMs`. Defaults 500 / 10000. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Consecutive short-lived runs before giving up on the stream. Default 20. */
  maxRestarts: number;
  /** A run that lasted this long resets the backoff. Default 30000. */
  stableRunMs: number;
  /** How long `close()` lets ffmpeg flush before killing it. Default 5000. */
  stopTimeoutMs: number;
}

export const RTMP_DEFAULTS: RtmpTuning = {
  videoWaitMs: 3000,
  maxVideoQueueMs: 2000,
  maxVideoQueueBytes: 16 << 20,
  maxAudioQueueMs: 10_000,
  backoffMs: 500,
  maxBackoffMs: 10_000,
  maxRestarts: 20,
  stableRunMs: 30_000,
  stopTimeoutMs: 5000,
};

export interface RtmpDeps {
  logger?: DeliveryLogger;
  tuning?: Partial<RtmpTuning>;
}

export interface RtmpStats extends DestinationStats {
  /** Frames not sent: video dropped to the next keyframe, media during a restart. */
  dropped: number;
}

/** Cumulative counters (a sink's own; the destination sums them). */
interface Totals {
  delivered: number;
  retried: number;
  failed: number;
  dropped: number;
}

type State = 'idle' | 'waiting' | 'running' | 'backoff' | 'switching' | 'failed' | 'closed';

/**
 * Frames handed to one pipe of one run and not yet taken by the OS. Its `written` callback is bound
 * once per run, so the hot path allocates no closure per frame.
 */
class PipeQueue {
  pending = 0;
  #times: number[] = [];
  #head = 0;
  constructor(private readonly totals: Totals) {}
  readonly written = (err?: Error | null): void => {
    if (this.pending === 0) return;
    this.pending--;
    this.#head++;
    if (this.#head > 1024) {
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
    if (!err) this.totals.delivered++;
  };
  add(receivedAt: number): void {
    this.pending++;
    this.#times.push(receivedAt);
  }
  /** receivedAt of the oldest frame still waiting, or undefined. */
  oldest(): number | undefined {
    return this.pending > 0 ? this.#times[this.#head] : undefined;
  }
}

interface Held {
  timestamp: number;
  receivedAt: number;
  pcm: Buffer;
}

/** One stream's restream. Exported for tests (`ffmpegPid`, `state`); the hub only sees StreamSink. */
export class RtmpSink implements StreamSink {
  #state: State = 'idle';
  #run?: FfmpegRun;
  #runVideo = false;
  #video?: PipeQueue;
  #audio?: PipeQueue;
  #filler?: GapFiller;
  #origin = 0;
  #lastVideoTs = -1;
  /** The last keyframe sent: repeated while the camera is off, so ffmpeg's video clock keeps moving. */
  #lastKey?: Uint8Array;
  #videoDropping = false;
  readonly #flv = new FlvVideoWriter();
  #held: Held[] = [];
  // Media parameters (L16 16 kHz mono until told otherwise, as the recorder assumes).
  #rate = 16000;
  #channels = 1;
  #codec: number = Codec.L16;
  #decoder?: AudioDecoder;
  #expectVideo = true;
  #h264 = true;
  #individualVideo = false;
  #multiAudio = false;
  #speaker?: number | string;
  #videoUser?: number | string;
  // RTMS time minus local time, from the last frame: maps "now" onto the stream's clock for silence.
  #clockOffset?: number;
  #silence: Buffer;
  #timer?: NodeJS.Timeout;
  #backoffTimer?: NodeJS.Timeout;
  #restarts = 0;
  #report?: (err: unknown) => void;
  readonly #tag: { destination: string; rtmsStreamId: string };
  /** This stream's own figures (the destination sums them). */
  /** `frozen`: keyframes repeated while the camera was off. */
  readonly counts = { delivered: 0, retried: 0, failed: 0, dropped: 0, decodeErrors: 0, runs: 0, frozen: 0 };

  constructor(
    private readonly config: RtmpDestinationConfig,
    readonly info: StreamInfo,
    private readonly tuning: RtmpTuning,
    private readonly logger?: DeliveryLogger,
  ) {
    this.#tag = { destination: config.name, rtmsStreamId: info.rtmsStreamId };
    this.#silence = Buffer.alloc(this.#rate * this.#channels * 2);
  }

  get state(): State {
    return this.#state;
  }
  /** The current ffmpeg's pid (tests kill it to check the restart). */
  get ffmpegPid(): number | undefined {
    return this.#run?.alive ? this.#run.pid : undefined;
  }

  setErrorReporter(report: (err: unknown) => void): void {
    this.#report = report;
  }

  onJoined(params: MediaParams, reconnected: boolean): void {
    const a = params.audio;
    if (a) {
      const rate = SAMPLE_RATE_HZ[(a.sample_rate ?? 1) as SampleRate] ?? 16000;
      const channels = a.channel ?? 1;
      const codec = a.codec ?? Codec.L16;
      const changed = rate !== this.#rate || channels !== this.#channels;
      if (!this.#decoder || changed || codec !== this.#codec) {
        this.#decoder?.destroy?.();
        this.#rate = rate;
        this.#channels = channels;
        this.#codec = codec;
        this.#decoder = createAudioDecoder(codec, rate, channels);
        this.#silence = Buffer.alloc(rate * channels * 2);
        // ffmpeg was told the old PCM format: a new run, at the next keyframe.
        if (changed && this.#state === 'running') this.#switch('audio format changed');
      }
      this.#multiAudio = a.data_opt === DataOption.AUDIO_MULTI_STREAMS;
    }
    const v = params.video;
    this.#h264 = !v || v.codec === undefined || v.codec === Codec.H264;
    this.#expectVideo = !!v && this.#h264;
    this.#individualVideo = v?.data_opt === DataOption.VIDEO_SINGLE_INDIVIDUAL_STREAM;
    // Frames after a reconnection may reference pictures we never got: wait for a keyframe.
    if (reconnected) this.#videoDropping = true;
  }

  onEvent(e: TimelineEvent): void {
    if (e.type === 'active_speaker' && e.userId !== undefined) this.#speaker = e.userId;
  }

  onAudio(f: AudioFrame): void {
    const s = this.#state;
    if (s === 'closed' || s === 'failed') return;
    // Multi-stream audio has no mixed track: follow the active speaker rather than garble overlaps.
    if (this.#multiAudio && this.#speaker !== undefined && f.userId !== this.#speaker) return;
    this.#clockOffset = f.timestamp - f.receivedAt;
    if (s === 'backoff' || s === 'switching') {
      this.counts.dropped++;
      return;
    }
    this.#decoder ??= createAudioDecoder(this.#codec, this.#rate, this.#channels);
    let pcm: Buffer;
    try {
      const samples = this.#decoder.decode(f.data);
      // L16 decodes to a view of the frame's own bytes; other decoders may reuse their output.
      pcm = this.#codec === Codec.L16 ? Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength) : Buffer.from(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
    } catch {
      this.counts.decodeErrors++;
      return;
    }
    if (s === 'running') {
      this.#writeAudio(f.timestamp, f.receivedAt, pcm);
      if (this.#runVideo) this.#freezeFrame(f.timestamp);
      return;
    }
    // idle / waiting: hold until the run can start.
    this.#state = 'waiting';
    this.#held.push({ timestamp: f.timestamp, receivedAt: f.receivedAt, pcm });
    if (!this.#expectVideo || f.timestamp - this.#held[0].timestamp >= this.tuning.videoWaitMs) this.#start(false, f.timestamp);
  }

  onVideo(f: VideoFrame): void {
    const s = this.#state;
    if (s === 'closed' || s === 'failed' || !this.#h264) return;
    this.#clockOffset = f.timestamp - f.receivedAt;
    if (this.#individualVideo && f.userId !== this.#videoUser) {
      // One participant's camera at a time: switch to the active speaker at their next keyframe.
      const wanted = this.#videoUser === undefined || f.userId === this.#speaker;
      if (!wanted || !FlvVideoWriter.isKeyframe(f.data)) return;
      this.#videoUser = f.userId;
      this.#videoDropping = false;
    }
    if (s === 'backoff' || s === 'switching') {
      this.counts.dropped++;
      return;
    }
    if (s === 'idle' || s === 'waiting') {
      if (!FlvVideoWriter.isKeyframe(f.data)) return; // nothing to decode from yet: not a drop
      this.#start(true, f.timestamp);
    } else if (!this.#runVideo) {
      // Audio-only so far and a camera appeared: a new run with video, from a later keyframe.
      if (FlvVideoWriter.isKeyframe(f.data)) {
        this.#expectVideo = true;
        this.#switch('video appeared');
      }
      return;
    }
    this.#writeVideo(f);
  }

  // Share is not restreamed: the destination sends the camera view (ARCHITECTURE: active speaker).

  #writeVideo(f: VideoFrame): void {
    const run = this.#run!;
    const q = this.#video!;
    if (run.ending) {
      this.counts.dropped++; // killed for a stall, its exit not seen yet
      return;
    }
    const oldest = q.oldest();
    if (run.videoBytes > this.tuning.maxVideoQueueBytes || (oldest !== undefined && f.receivedAt - oldest > this.tuning.maxVideoQueueMs)) this.#videoDropping = true;
    if (this.#videoDropping) {
      // Only a keyframe can resume, and only once the backlog is gone.
      if (run.videoBytes > 0 || !FlvVideoWriter.isKeyframe(f.data)) {
        this.counts.dropped++;
        return;
      }
      this.#videoDropping = false;
    }
    let ts = f.timestamp - this.#origin;
    // FLV wants non-decreasing timestamps; a reordered or late frame is nudged, not refused.
    if (ts <= this.#lastVideoTs) ts = this.#lastVideoTs + 1;
    const out = this.#flv.frame(f.data, ts);
    if (!out.tags) return;
    this.#lastVideoTs = ts;
    if (out.keyframe) this.#lastKey = f.data;
    q.add(f.receivedAt);
    run.writeVideo(out.tags, q.written);
  }

  /**
   * Repeats the last keyframe when no video has been sent for a second of stream time (camera off,
   * a pause). Needed, not cosmetic: ffmpeg 5.1 muxes in timestamp order across its inputs and waits
   * on the input that is furthest behind, so a video pipe that goes quiet would hold the audio back
   * (live) until the stream ends. A repeated IDR frame is a frozen picture any player shows.
   */
  #freezeFrame(streamTs: number): void {
    const run = this.#run;
    if (!run || !this.#runVideo || !this.#lastKey || this.#videoDropping || run.ending) return;
    const ts = streamTs - this.#origin;
    if (ts - this.#lastVideoTs < 1000 || run.videoBytes > this.tuning.maxVideoQueueBytes) return;
    const out = this.#flv.frame(this.#lastKey, ts);
    if (!out.tags) return;
    this.#lastVideoTs = ts;
    this.counts.frozen++;
    run.writeVideo(out.tags);
  }

  #writeAudio(timestamp: number, receivedAt: number, pcm: Buffer): void {
    const run = this.#run!;
    if (run.ending) {
      this.counts.dropped++;
      return;
    }
    const bytesPerMs = (this.#rate * this.#channels * 2) / 1000;
    if (run.audioBytes > this.tuning.maxAudioQueueMs * bytesPerMs) {
      // ffmpeg has not read 10 s of audio: it is stuck (a stalled server, a hung encoder).
      this.logger?.warn({ ...this.#tag }, `rtmp destination "${this.config.name}": ffmpeg stopped reading; restarting it`);
      this.counts.dropped++;
      run.kill();
      return;
    }
    const frameSamples = pcm.length / 2 / this.#channels;
    const { silence, skip } = this.#filler!.place(timestamp, frameSamples);
    if (silence) this.#writeSilence(silence);
    const data = skip ? pcm.subarray(skip * 2 * this.#channels) : pcm;
    if (data.length === 0) return;
    this.#audio!.add(receivedAt);
    run.writeAudio(data, this.#audio!.written);
  }

  #writeSilence(samples: number): void {
    let bytes = samples * 2 * this.#channels;
    while (bytes > 0) {
      const n = Math.min(bytes, this.#silence.length);
      this.#run!.writeAudio(this.#silence.subarray(0, n));
      bytes -= n;
    }
  }

  /** Keeps the AAC track going when the mixed audio stops (nobody talks, a pause) while video flows or not. */
  #tick = (): void => {
    if (this.#state !== 'running' || this.#clockOffset === undefined) return;
    const now = Date.now() + this.#clockOffset;
    // One second behind "now", so a frame that is merely late is still placed, not trimmed.
    const n = this.#filler!.padTo(now - 1000);
    if (n > 0) this.#writeSilence(n);
    this.#freezeFrame(now - 1000);
  };

  #start(withVideo: boolean, timestamp: number): void {
    const origin = this.#held.length ? Math.min(this.#held[0].timestamp, timestamp) : timestamp;
    let run: FfmpegRun;
    try {
      run = new FfmpegRun({ ffmpegPath: this.config.ffmpegPath ?? 'ffmpeg', url: this.config.url, video: withVideo, sampleRate: this.#rate, channels: this.#channels });
    } catch (err) {
      // spawn() throws only for arguments it refuses outright (an empty path): as good as missing.
      this.#fail(new OpenRtmsError('DELIVERY_RTMP_FAILED', `rtmp destination "${this.config.name}": ffmpeg could not be started (${(err as Error).message.split('\n')[0]})`, { destination: this.config.name }));
      return;
    }
    this.#run = run;
    this.counts.runs++;
    this.#runVideo = withVideo;
    this.#origin = origin;
    this.#lastVideoTs = -1;
    this.#lastKey = undefined;
    this.#videoDropping = false;
    this.#filler = new GapFiller(origin, this.#rate);
    this.#video = new PipeQueue(this.counts);
    this.#audio = new PipeQueue(this.counts);
    this.#flv.reset();
    this.#state = 'running';
    if (withVideo) run.writeVideo(flvHeader());
    const held = this.#held;
    this.#held = [];
    for (const h of held) this.#writeAudio(h.timestamp, h.receivedAt, h.pcm);
    this.#timer ??= setInterval(this.#tick, 500).unref();
    this.logger?.info({ ...this.#tag, pid: run.pid }, `rtmp destination "${this.config.name}": pushing ${withVideo ? 'video and audio' : 'audio only'} to ${maskUrl(this.config.url)}`);
    void run.exited.then((e) => this.#exited(run, e));
  }

  /** Ends the current run on purpose and starts the next one at the next keyframe (not a failure). */
  #switch(why: string): void {
    const run = this.#run;
    if (!run) return;
    this.#state = 'switching';
    this.logger?.info({ ...this.#tag }, `rtmp destination "${this.config.name}": ${why}; starting a new ffmpeg run`);
    void run.stop(this.tuning.stopTimeoutMs);
  }

  #exited(run: FfmpegRun, e: FfmpegExit): void {
    if (run !== this.#run) return;
    this.#run = undefined;
    const state = this.#state;
    // A missing ffmpeg is reported even when the stream ended first (a run started by close()).
    if (state === 'closed' && !e.spawnError) return;
    if (state === 'switching') {
      this.#state = 'waiting';
      return;
    }
    if (e.spawnError) {
      const missing = e.spawnError.code === 'ENOENT';
      const msg = missing
        ? `rtmp destination "${this.config.name}": ffmpeg not found (install Debian's ffmpeg package or set ffmpegPath)`
        : `rtmp destination "${this.config.name}": ffmpeg could not be started (${e.spawnError.code ?? e.spawnError.message})`;
      this.#fail(new OpenRtmsError(missing ? 'DELIVERY_FFMPEG_MISSING' : 'DELIVERY_RTMP_FAILED', msg, { destination: this.config.name }));
      return;
    }
    const lived = Date.now() - run.startedAt;
    if (lived >= this.tuning.stableRunMs) this.#restarts = 0;
    if (this.#restarts >= this.tuning.maxRestarts) {
      this.#fail(new OpenRtmsError('DELIVERY_RTMP_FAILED', `rtmp destination "${this.config.name}": ffmpeg failed ${this.#restarts + 1} time${this.#restarts ? 's' : ''} in a row; giving up on stream ${this.info.rtmsStreamId} (last: ${describeExit(e)})`, { destination: this.config.name }));
      return;
    }
    const delay = Math.min(this.tuning.maxBackoffMs, this.tuning.backoffMs * 2 ** this.#restarts);
    this.#restarts++;
    this.counts.retried++;
    this.#state = 'backoff';
    this.logger?.warn({ ...this.#tag, code: e.code, signal: e.signal }, `rtmp destination "${this.config.name}": ffmpeg ${describeExit(e)}; restarting in ${delay} ms`);
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      if (this.#state === 'backoff') this.#state = 'waiting';
    }, delay);
    this.#backoffTimer.unref?.();
  }

  #fail(err: OpenRtmsError): void {
    if (this.#state !== 'closed') this.#state = 'failed';
    this.#held = [];
    this.counts.failed++;
    clearInterval(this.#timer);
    // One line, no stack: through the server's logger, or the pipeline's reporter when there is none.
    if (this.logger) (this.logger.error ?? this.logger.warn).call(this.logger, { ...this.#tag, code: err.code }, err.message);
    else this.#report?.(err);
  }

  /** Frames waiting (held before the run, or in a pipe buffer) and the age of the oldest. */
  pending(now = Date.now()): { queued: number; lagMs: number } {
    const queued = this.#held.length + (this.#video?.pending ?? 0) + (this.#audio?.pending ?? 0);
    let oldest = this.#held[0]?.receivedAt;
    for (const t of [this.#video?.oldest(), this.#audio?.oldest()]) if (t !== undefined && (oldest === undefined || t < oldest)) oldest = t;
    return { queued, lagMs: oldest === undefined ? 0 : Math.max(0, now - oldest) };
  }

  stats(): RtmpStats {
    const { queued, lagMs } = this.pending();
    return { queued, lagMs, delivered: this.counts.delivered, retried: this.counts.retried, failed: this.counts.failed, dropped: this.counts.dropped };
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    // A stream shorter than the wait for video still goes out, as audio.
    if (this.#state === 'waiting' && this.#held.length) this.#start(false, this.#held[0].timestamp);
    this.#state = 'closed';
    clearInterval(this.#timer);
    clearTimeout(this.#backoffTimer);
    this.#held = [];
    const run = this.#run;
    if (run) {
      const e = await run.stop(this.tuning.stopTimeoutMs);
      if (e.signal) this.logger?.warn({ ...this.#tag, signal: e.signal }, `rtmp destination "${this.config.name}": ffmpeg did not finish within ${this.tuning.stopTimeoutMs} ms and was killed`);
    }
    this.#run = undefined;
    this.#decoder?.destroy?.();
  }
}

function describeExit(e: FfmpegExit): string {
  const how = e.signal ? `was killed (${e.signal})` : `exited with code ${e.code}`;
  return e.stderrTail ? `${how}: ${e.stderrTail}` : how;
}

/** What `createRtmpDestination` returns: a Destination whose sinks and figures are typed. */
export interface RtmpDestination extends Destination {
  readonly type: 'rtmp';
  sinkFor(info: StreamInfo): RtmpSink;
  stats(): RtmpStats;
}

/** The `rtmp` destination: a restream sink per matching stream, figures summed over them. */
export function createRtmpDestination(config: RtmpDestinationConfig, deps: RtmpDeps = {}): RtmpDestination {
  const tuning: RtmpTuning = { ...RTMP_DEFAULTS, ...deps.tuning };
  const finished: Totals = { delivered: 0, retried: 0, failed: 0, dropped: 0 };
  const live = new Set<RtmpSink>();
  let closed = false;
  return {
    name: config.name,
    type: 'rtmp',
    matches(stream: DeliveryStream, eventType?: DeliveryEventType): boolean {
      return matchesFilter(config.match, stream, eventType);
    },
    sinkFor(info: StreamInfo): RtmpSink {
      const sink = new RtmpSink(config, info, tuning, deps.logger);
      if (closed) void sink.close();
      else live.add(sink);
      const close = sink.close.bind(sink);
      sink.close = async () => {
        try {
          await close();
        } finally {
          // A finished stream's figures stay in the destination's totals.
          if (live.delete(sink)) for (const k of ['delivered', 'retried', 'failed', 'dropped'] as const) finished[k] += sink.counts[k];
        }
      };
      return sink;
    },
    stats(): RtmpStats {
      const now = Date.now();
      const out: RtmpStats = { queued: 0, lagMs: 0, ...finished };
      for (const s of live) {
        const p = s.pending(now);
        out.queued += p.queued;
        out.lagMs = Math.max(out.lagMs, p.lagMs);
        for (const k of ['delivered', 'retried', 'failed', 'dropped'] as const) out[k] += s.counts[k];
      }
      return out;
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.allSettled([...live].map((s) => s.close()));
    },
  };
}
