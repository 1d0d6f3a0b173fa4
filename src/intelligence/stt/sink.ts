/**
 * TranscriptionSink: one `transcription` entry on one stream. It decodes the stream's audio (the
 * same decoders as the recorder), makes it mono at the provider's rate, and routes it to channels:
 * one per participant when Zoom sends audio per participant (AUDIO_MULTI_STREAMS: exact speaker
 * labels), else one for the mixed audio with the provider's diarization. Final results become
 * segments of a transcript track (`source` = the entry's name) that the pipeline hands to the
 * other sinks (store, recorder, live feed, delivery).
 *
 * The frame handler only decodes, resamples and appends to a bounded channel buffer; sending is a
 * non-blocking socket write (or a queued request), so it never holds up the socket reader.
 */
import { createAudioDecoder, type AudioDecoder } from '../../media/codec.js';
import { resample, stereoToMono } from '../../media/l16.js';
import { DataOption, SAMPLE_RATE_HZ, type MediaParams, type SampleRate } from '../../protocol/index.js';
import type { AudioFrame, StreamInfo, StreamSink, TrackSegment, TrackWord } from '../../pipeline/types.js';
import { SttChannel, type ChannelResult, type ChannelStats } from './channel.js';
import type { TranscriptionConfig } from './config.js';
import type { SttAdapter } from './types.js';

export interface TranscriptionSinkLogger {
  warn(obj: object, msg?: string): void;
}

export interface TranscriptionSinkOptions {
  config: TranscriptionConfig;
  adapter: SttAdapter;
  info: StreamInfo;
  logger?: TranscriptionSinkLogger;
  /** Told once at close with this sink's figures (the runtime adds them to the stream's stats). */
  onStats?(stats: TranscriptionStats): void;
  /** Tuning (tests): reconnect backoff and the finish wait. */
  backoffMs?: number;
  finishTimeoutMs?: number;
  /**
   * A participant's connection with no audio for this long (stream time) is finished and released;
   * their next words open a new one. Default 120 s: a large meeting does not hold a connection per
   * person who once spoke.
   */
  idleCloseMs?: number;
}

/** How often (in audio frames, ~5 s) idle participant connections are looked for. */
const IDLE_CHECK_FRAMES = 250;

export interface TranscriptionStats extends ChannelStats {
  source: string;
  provider: string;
  channels: number;
  segments: number;
  decodeErrors: number;
}

interface Route {
  channel: SttChannel;
  userId: number | string;
  userName: string;
}

const sum = (all: ChannelStats[], k: keyof ChannelStats) => all.reduce((n, s) => n + s[k], 0);

export class TranscriptionSink implements StreamSink {
  readonly closesFirst = true;
  readonly source: string;
  readonly #o: TranscriptionSinkOptions;
  #emit?: (s: TrackSegment) => void;
  #decoder?: AudioDecoder;
  #rate = 16000;
  #channels = 1;
  #multi = false;
  readonly #routes = new Map<string, Route>();
  /** Figures of channels released while idle, and their finishing. */
  readonly #released: ChannelStats[] = [];
  readonly #releasing = new Set<Promise<void>>();
  #frames = 0;
  #last?: { userId: number | string; route: Route };
  #segments = 0;
  #decodeErrors = 0;
  #closing?: Promise<void>;
  #warned = new Set<string>();

  constructor(options: TranscriptionSinkOptions) {
    this.#o = options;
    this.source = options.config.name;
  }

  setTrackEmitter(emit: (segment: TrackSegment) => void): void {
    this.#emit = emit;
  }

  get stats(): TranscriptionStats {
    const all = [...this.#released, ...[...this.#routes.values()].map((r) => r.channel.stats)];
    return {
      source: this.source,
      provider: this.#o.adapter.provider,
      channels: this.#routes.size + this.#released.length,
      segments: this.#segments,
      decodeErrors: this.#decodeErrors,
      sentMs: Math.round(sum(all, 'sentMs')),
      droppedMs: Math.round(sum(all, 'droppedMs')),
      resentMs: Math.round(sum(all, 'resentMs')),
      connects: sum(all, 'connects'),
      reconnects: sum(all, 'reconnects'),
      failedConnects: sum(all, 'failedConnects'),
      results: sum(all, 'results'),
    };
  }

  onJoined(params: MediaParams): void {
    const a = params.audio;
    if (!a) return;
    const rate = SAMPLE_RATE_HZ[(a.sample_rate ?? 1) as SampleRate];
    const channels = a.channel ?? 1;
    const multi = a.data_opt === DataOption.AUDIO_MULTI_STREAMS;
    if (this.#decoder && rate === this.#rate && channels === this.#channels && multi === this.#multi) return;
    this.#decoder?.destroy?.();
    this.#rate = rate;
    this.#channels = channels;
    this.#multi = multi;
    this.#last = undefined;
    this.#decoder = createAudioDecoder(a.codec ?? 1, rate, channels);
    if (multi && this.#o.config.audio === 'mixed') this.#warnOnce('multi', 'audio arrives per participant: one connection per speaker, labelled exactly, instead of one diarized connection');
  }

  onAudio(f: AudioFrame): void {
    if (this.#closing) return;
    if (!this.#decoder) this.onJoined({ audio: {} });
    let pcm: Int16Array;
    try {
      pcm = this.#decoder!.decode(f.data);
    } catch {
      this.#decodeErrors++;
      return;
    }
    if (this.#channels === 2) pcm = stereoToMono(pcm);
    pcm = resample(pcm, this.#rate, this.#o.adapter.sampleRate);
    const route = this.#last?.userId === f.userId ? this.#last.route : this.#routeFor(f);
    route.channel.push(pcm, f.timestamp);
    if (++this.#frames % IDLE_CHECK_FRAMES === 0 && this.#routes.size > 1) this.#releaseIdle(f.timestamp);
  }

  /** Finishes the connections of participants silent for `idleCloseMs` (their figures are kept). */
  #releaseIdle(now: number): void {
    const idle = this.#o.idleCloseMs ?? 120_000;
    for (const [key, r] of this.#routes) {
      if (now - r.channel.lastAt < idle) continue;
      this.#routes.delete(key);
      if (this.#last?.route === r) this.#last = undefined;
      this.#released.push(r.channel.stats);
      const done: Promise<void> = r.channel
        .finish()
        .catch(() => r.channel.close())
        .finally(() => this.#releasing.delete(done));
      this.#releasing.add(done);
    }
  }

  #routeFor(f: AudioFrame): Route {
    const perSpeaker = this.#multi && f.userId !== 0;
    const key = perSpeaker ? String(f.userId) : 'mixed';
    let route = this.#routes.get(key);
    if (!route) {
      const c = this.#o.config;
      const label = `${this.#o.info.rtmsStreamId}/${key}`;
      const routeRef: { r?: Route } = {};
      const channel = new SttChannel({
        adapter: this.#o.adapter,
        open: { diarize: !perSpeaker, label, ...(c.language ? { language: c.language } : {}), ...(c.model ? { model: c.model } : {}) },
        bufferMs: c.bufferSeconds * 1000,
        ...(this.#o.backoffMs !== undefined ? { backoffMs: this.#o.backoffMs } : {}),
        ...(this.#o.finishTimeoutMs !== undefined ? { finishTimeoutMs: this.#o.finishTimeoutMs } : {}),
        onResult: (r) => this.#result(routeRef.r!, r),
        onWarning: (m) => this.#o.logger?.warn({ rtmsStreamId: this.#o.info.rtmsStreamId, source: this.source }, m),
      });
      route = { channel, userId: perSpeaker ? f.userId : 0, userName: perSpeaker ? f.userName : '' };
      routeRef.r = route;
      this.#routes.set(key, route);
    } else if (f.userName && route.userId !== 0) route.userName = f.userName;
    this.#last = { userId: f.userId, route };
    return route;
  }

  #result(route: Route, { result, toStreamMs }: ChannelResult): void {
    if (!result.final || !result.text.trim()) return;
    const words = result.words?.map((w) => ({ w, tw: { text: w.text, startTime: toStreamMs(w.startMs), endTime: toStreamMs(w.endMs), ...(w.confidence !== undefined ? { confidence: w.confidence } : {}) } as TrackWord }));
    // Mixed audio: a result whose words carry different diarization labels becomes one segment per speaker turn.
    if (route.userId === 0 && words?.length && words.some((x) => x.w.speaker !== undefined)) {
      let run: { speaker: string; items: typeof words } | undefined;
      const flush = () => {
        if (!run) return;
        const ws = run.items.map((x) => x.tw);
        this.#segment({ userId: `speaker_${run.speaker}`, userName: `Speaker ${run.speaker}`, text: run.items.map((x) => x.w.text).join(' '), startTime: ws[0].startTime, endTime: ws[ws.length - 1].endTime, words: ws, language: result.language });
      };
      for (const x of words) {
        const speaker = x.w.speaker ?? result.speaker ?? run?.speaker ?? '0';
        if (!run || run.speaker !== speaker) {
          flush();
          run = { speaker, items: [] };
        }
        run.items.push(x);
      }
      flush();
      return;
    }
    const speaker = route.userId === 0 && result.speaker !== undefined ? result.speaker : undefined;
    this.#segment({
      userId: speaker !== undefined ? `speaker_${speaker}` : route.userId,
      userName: speaker !== undefined ? `Speaker ${speaker}` : route.userName,
      text: result.text.trim(),
      startTime: toStreamMs(result.startMs),
      endTime: toStreamMs(result.endMs),
      ...(words?.length ? { words: words.map((x) => x.tw) } : {}),
      language: result.language,
    });
  }

  #segment(s: Omit<TrackSegment, 'source' | 'timestamp'>): void {
    this.#segments++;
    const seg: TrackSegment = { source: this.source, ...s, timestamp: s.startTime };
    if (seg.language === undefined) delete seg.language;
    if (seg.language === undefined && this.#o.config.language) seg.language = this.#o.config.language;
    this.#emit?.(seg);
  }

  #warnOnce(key: string, msg: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#o.logger?.warn({ rtmsStreamId: this.#o.info.rtmsStreamId, source: this.source }, msg);
  }

  /** Flushes every channel (the vendors' close messages), waits (bounded) for the last results. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#routes.values()].map((r) => r.channel.finish().catch(() => r.channel.close())));
      await Promise.all(this.#releasing);
      this.#decoder?.destroy?.();
      this.#o.onStats?.(this.stats);
    })();
    return this.#closing;
  }
}
