/**
 * Recorder: one stream's recording directory, in the layout of ARCHITECTURE.md.
 *
 *   manifest.json  audio/mixed.wav  audio/<user_id>.wav  transcript.jsonl|.vtt|.srt  chat.jsonl  events.jsonl
 *
 * Audio is decoded to 16-bit PCM and placed by timestamp (silence fills gaps, so duration = wall
 * time). Frame handlers only decode and buffer; files are written asynchronously every 500 ms.
 * In multi-stream mode each speaker gets a file and mixed.wav is their sum, made at close.
 * H.264 camera and share become fragmented MP4 (video/active.mp4 or video/<user_id>.mp4 for a
 * subscribed participant, share/share.mp4); JPG/PNG frames are written under frames/.
 */
import { mkdirSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createAudioDecoder, type AudioDecoder } from '../media/codec.js';
import { GapFiller, type Gap } from '../media/gap-filler.js';
import { WavWriter, parseWav } from '../media/wav.js';
import { DataOption, SAMPLE_RATE_HZ, type MediaParams, type SampleRate } from '../protocol/index.js';
import type { AudioFrame, ChatMessage, StreamInfo, StreamSink, TimelineEvent, TranscriptFrame, VideoFrame } from '../pipeline/types.js';
import { toSrt, toVtt, type CaptionSegment } from './captions.js';
import { VideoTrack } from './video-track.js';
import { Codec } from '../protocol/index.js';
import { safeName } from './paths.js';

const FLUSH_MS = 500;
const MANIFEST_MS = 5000;
/** Bytes of text lines held while the disk is slow; beyond this, lines are dropped and counted. */
const MAX_TEXT_BUFFER = 8 << 20;

interface Track {
  writer: WavWriter;
  filler: GapFiller;
  userId: number | string;
  userName: string;
}

export interface RecorderStats {
  frames: { audio: number; video: number; share: number; transcript: number; chat: number };
  decodeErrors: number;
  dropped: number;
}

export class Recorder implements StreamSink {
  readonly dir: string;
  readonly stats: RecorderStats = { frames: { audio: 0, video: 0, share: 0, transcript: 0, chat: 0 }, decodeErrors: 0, dropped: 0 };
  #info: StreamInfo;
  #ready: Promise<void>;
  #decoder?: AudioDecoder;
  #rate = 16000;
  #channels = 1;
  #multi = false;
  #tracks = new Map<string, Track>();
  #startMs?: number;
  #lastMs = 0;
  #text = new Map<string, string[]>();
  #textBytes = 0;
  #segments: CaptionSegment[] = [];
  #participants = new Map<string, { user_id: number | string; user_name: string; first_seen: number; last_seen: number }>();
  #timer: NodeJS.Timeout;
  #manifestTimer: NodeJS.Timeout;
  #closing?: Promise<void>;
  #stoppedAt?: number;
  #manifestChain: Promise<void> = Promise.resolve();
  #videoCodec: Record<'video' | 'deskshare', number> = { video: Codec.H264, deskshare: Codec.H264 };
  #individualVideo = false;
  #videoTracks = new Map<string, VideoTrack>();
  #frameWrites = new Set<Promise<void>>();

  constructor(options: { dataDir: string; info: StreamInfo }) {
    this.#info = options.info;
    this.dir = join(options.dataDir, 'recordings', safeName(options.info.rtmsStreamId));
    this.#ready = mkdir(join(this.dir, 'audio'), { recursive: true }).then(() => this.#writeManifest());
    this.#timer = setInterval(() => void this.#flush(), FLUSH_MS);
    this.#manifestTimer = setInterval(() => void this.#writeManifest(), MANIFEST_MS);
    this.#timer.unref();
    this.#manifestTimer.unref();
  }

  onJoined(params: MediaParams): void {
    if (params.video?.codec) this.#videoCodec.video = params.video.codec;
    if (params.deskshare?.codec) this.#videoCodec.deskshare = params.deskshare.codec;
    this.#individualVideo = params.video?.data_opt === DataOption.VIDEO_SINGLE_INDIVIDUAL_STREAM;
    const a = params.audio;
    if (!a) return;
    const rate = SAMPLE_RATE_HZ[(a.sample_rate ?? 1) as SampleRate];
    const channels = a.channel ?? 1;
    if (this.#decoder && rate === this.#rate && channels === this.#channels) return;
    this.#rate = rate;
    this.#channels = channels;
    this.#multi = a.data_opt === DataOption.AUDIO_MULTI_STREAMS;
    this.#decoder = createAudioDecoder(a.codec ?? 1, rate, channels);
  }

  onAudio(f: AudioFrame): void {
    this.stats.frames.audio++;
    if (!this.#decoder) this.onJoined({ audio: {} });
    let pcm: Int16Array;
    try {
      pcm = this.#decoder!.decode(f.data);
    } catch {
      this.stats.decodeErrors++;
      return;
    }
    this.#startMs ??= f.timestamp;
    const key = this.#multi && f.userId !== 0 ? String(f.userId) : 'mixed';
    let track = this.#tracks.get(key);
    if (!track) {
      track = { writer: new WavWriter(join(this.dir, 'audio', `${key === 'mixed' ? 'mixed' : safeName(key)}.wav`), this.#rate, this.#channels), filler: new GapFiller(this.#startMs, this.#rate), userId: f.userId, userName: f.userName };
      this.#tracks.set(key, track);
    }
    const frameMs = (pcm.length / this.#channels / this.#rate) * 1000;
    this.#lastMs = Math.max(this.#lastMs, f.timestamp + frameMs);
    const { silence, skip } = track.filler.place(f.timestamp, pcm.length / this.#channels);
    track.writer.silence(silence);
    track.writer.write(skip ? pcm.subarray(skip * this.#channels) : pcm);
    if (f.userId !== 0) this.#seen(f.userId, f.userName, f.timestamp);
  }

  onVideo(f: VideoFrame): void {
    this.stats.frames.video++;
    this.#video(f, 'video');
  }
  onShare(f: VideoFrame): void {
    this.stats.frames.share++;
    this.#video(f, 'deskshare');
  }

  #video(f: VideoFrame, kind: 'video' | 'deskshare'): void {
    const codec = this.#videoCodec[kind];
    if (codec === Codec.JPG || codec === Codec.PNG) {
      const dir = join(this.dir, 'frames', kind === 'video' ? 'video' : 'share');
      const file = join(dir, `${f.timestamp}.${codec === Codec.JPG ? 'jpg' : 'png'}`);
      const w = this.#ready.then(() => mkdir(dir, { recursive: true })).then(() => writeFile(file, f.data)).catch(() => void this.stats.dropped++);
      this.#frameWrites.add(w);
      void w.finally(() => this.#frameWrites.delete(w));
      return;
    }
    const name = kind === 'deskshare' ? 'share/share' : this.#individualVideo ? `video/${safeName(String(f.userId))}` : 'video/active';
    let track = this.#videoTracks.get(name);
    if (!track) {
      track = new VideoTrack((n) => join(this.dir, `${name}${n ? `-${n + 1}` : ''}.mp4`));
      this.#videoTracks.set(name, track);
      try {
        mkdirSync(join(this.dir, name.split('/')[0]), { recursive: true });
      } catch {
        this.stats.dropped++;
        return;
      }
    }
    try {
      track.add(f.data, f.timestamp);
    } catch {
      this.stats.decodeErrors++;
    }
  }

  onTranscript(t: TranscriptFrame): void {
    this.stats.frames.transcript++;
    this.#seen(t.userId, t.userName, t.timestamp);
    this.#segments.push({ text: t.text, userName: t.userName, timestamp: t.timestamp, startTime: t.startTime, endTime: t.endTime });
    this.#line('transcript.jsonl', { timestamp: t.timestamp, start_time: t.startTime, end_time: t.endTime, user_id: t.userId, user_name: t.userName, text: t.text, language: t.language });
  }

  onChat(c: ChatMessage): void {
    this.stats.frames.chat++;
    this.#seen(c.userId, c.userName, c.timestamp);
    this.#line('chat.jsonl', { timestamp: c.timestamp, user_id: c.userId, user_name: c.userName, text: c.text });
  }

  onEvent(e: TimelineEvent): void {
    if (e.userId !== undefined && e.userName) this.#seen(e.userId, e.userName, e.timestamp);
    if (e.type === 'closed') this.#stoppedAt = e.timestamp;
    this.#line('events.jsonl', { type: e.type, timestamp: e.timestamp, user_id: e.userId, user_name: e.userName, ...e.data });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer);
      clearInterval(this.#manifestTimer);
      this.#stoppedAt ??= Date.now();
      // Every track ends at the last audio instant, so all files have the stream's duration.
      for (const t of this.#tracks.values()) t.writer.silence(t.filler.padTo(this.#lastMs));
      await this.#flush();
      await Promise.all([...this.#tracks.values()].map((t) => t.writer.close()));
      await Promise.all([...this.#videoTracks.values()].map((v) => v.close()));
      await Promise.all(this.#frameWrites);
      if (this.#multi && this.#tracks.size > 0 && !this.#tracks.has('mixed')) await this.#mixDown();
      await this.#ready;
      await writeFile(join(this.dir, 'transcript.vtt'), toVtt(this.#segments, this.#startMs ?? this.#info.startedAt));
      await writeFile(join(this.dir, 'transcript.srt'), toSrt(this.#segments, this.#startMs ?? this.#info.startedAt));
      await this.#writeManifest(true);
    })();
    return this.#closing;
  }

  #seen(userId: number | string, userName: string, ts: number): void {
    const key = String(userId);
    const p = this.#participants.get(key);
    if (p) {
      p.last_seen = Math.max(p.last_seen, ts);
      if (userName) p.user_name = userName;
    } else this.#participants.set(key, { user_id: userId, user_name: userName, first_seen: ts, last_seen: ts });
  }

  #line(file: string, obj: object): void {
    const text = JSON.stringify(obj) + '\n';
    if (this.#textBytes + text.length > MAX_TEXT_BUFFER) {
      this.stats.dropped++;
      return;
    }
    this.#textBytes += text.length;
    let list = this.#text.get(file);
    if (!list) this.#text.set(file, (list = []));
    list.push(text);
  }

  async #flush(): Promise<void> {
    await this.#ready;
    const text = this.#text;
    this.#text = new Map();
    await Promise.all([
      ...[...this.#tracks.values()].map((t) => t.writer.flush()),
      ...[...text].map(async ([file, lines]) => {
        const chunk = lines.join('');
        await appendFile(join(this.dir, file), chunk);
        this.#textBytes -= chunk.length;
      }),
    ]);
  }

  async #mixDown(): Promise<void> {
    const decoded = await Promise.all([...this.#tracks.values()].map(async (t) => parseWav(await readFile(t.writer.path)).samples));
    const length = Math.max(...decoded.map((d) => d.length));
    const acc = new Int32Array(length);
    for (const d of decoded) for (let i = 0; i < d.length; i++) acc[i] += d[i];
    const out = new Int16Array(length);
    for (let i = 0; i < length; i++) out[i] = acc[i] > 32767 ? 32767 : acc[i] < -32768 ? -32768 : acc[i];
    const mixed = new WavWriter(join(this.dir, 'audio', 'mixed.wav'), this.#rate, this.#channels);
    mixed.write(out);
    await mixed.close();
  }

  /** Manifest writes are serialized so a periodic write never lands after the final one. */
  #writeManifest(final = false): Promise<void> {
    this.#manifestChain = this.#manifestChain.then(() => this.#writeManifestNow(final)).catch(() => {});
    return this.#manifestChain;
  }

  async #writeManifestNow(final: boolean): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const files = [...this.#tracks.entries()].map(([key, t]) => ({ path: `audio/${key === 'mixed' ? 'mixed' : safeName(key)}.wav`, kind: 'audio', user_id: key === 'mixed' ? null : t.userId, duration_ms: Math.round(t.writer.durationMs) }));
    if (this.#multi && final && !this.#tracks.has('mixed') && files.length) files.unshift({ path: 'audio/mixed.wav', kind: 'audio', user_id: null, duration_ms: Math.max(...files.map((f) => f.duration_ms)) });
    for (const v of this.#videoTracks.values()) {
      for (const seg of v.segments) files.push({ path: seg.path.slice(this.dir.length + 1), kind: seg.path.includes('/share/') ? 'share' : 'video', user_id: null, duration_ms: Math.round(seg.durationMs), width: seg.width, height: seg.height, frames: seg.frames } as never);
    }
    for (const f of ['transcript.jsonl', 'transcript.vtt', 'transcript.srt', 'chat.jsonl', 'events.jsonl']) files.push({ path: f, kind: f.split('.')[0], user_id: null, duration_ms: 0 });
    const gaps: (Gap & { track: string })[] = [];
    for (const [key, t] of this.#tracks) for (const g of t.filler.gaps) gaps.push({ track: key, atMs: Math.round(g.atMs), durationMs: Math.round(g.durationMs) });
    const manifest = {
      rtms_stream_id: this.#info.rtmsStreamId,
      meeting_uuid: this.#info.meetingUuid,
      product: this.#info.product,
      started_at: new Date(this.#startMs ?? this.#info.startedAt).toISOString(),
      stopped_at: final && this.#stoppedAt ? new Date(this.#stoppedAt).toISOString() : null,
      complete: final,
      audio: { sample_rate: this.#rate, channels: this.#channels, multi_stream: this.#multi },
      participants: [...this.#participants.values()],
      files,
      gaps,
      counts: { ...this.stats.frames, decode_errors: this.stats.decodeErrors, dropped: this.stats.dropped, audio_samples_dropped_slow_disk: [...this.#tracks.values()].reduce((n, t) => n + t.writer.droppedSamples, 0), video_skipped_before_keyframe: [...this.#videoTracks.values()].reduce((n, v) => n + v.skipped, 0), video_dropped_slow_disk: [...this.#videoTracks.values()].reduce((n, v) => n + v.dropped, 0) },
    };
    await writeFile(join(this.dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  }
}
