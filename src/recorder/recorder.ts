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
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { appendFile, mkdir, open, readFile, rename, rm, stat, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { RecordingError } from '../errors.js';
import { createAudioDecoder, type AudioDecoder } from '../media/codec.js';
import { GapFiller, type Gap } from '../media/gap-filler.js';
import { WavWriter, parseWav } from '../media/wav.js';
import { everyShared } from '../util/shared-interval.js';
import { DataOption, SAMPLE_RATE_HZ, type MediaParams, type SampleRate } from '../protocol/index.js';
import type { AudioFrame, ChatMessage, StreamInfo, StreamSink, TimelineEvent, TrackSegment, TranscriptFrame, VideoFrame } from '../pipeline/types.js';
import { toSrt, toVtt, type CaptionSegment } from './captions.js';
import { VideoTrack } from './video-track.js';
import { Codec } from '../protocol/index.js';
import { safeName } from './paths.js';
import { ChatLedger, chatAuditFromEnv, chatLine } from '../pipeline/chat-ledger.js';
import { PauseLog, type Pause } from './pauses.js';

/** Default audio write period: a killed process loses at most this much audio. */
const FLUSH_MS = 500;
const MANIFEST_MS = 5000;
/**
 * A periodic manifest whose only news would be durations and frame counts is written this often
 * instead (the WAV files, transcript and events files carry those anyway); anything else new
 * (a participant, a gap, a file, a write error) still goes out within MANIFEST_MS.
 */
const MANIFEST_QUIET_MS = 20_000;
/** Bytes of text lines held while the disk is slow; beyond this, lines are dropped and counted. */
const MAX_TEXT_BUFFER = 8 << 20;

/** What an earlier connection recorded of this stream (read when {@link StreamInfo.resume} is set). */
interface Previous {
  startMs: number;
  rate: number;
  channels: number;
  multi: boolean;
  tracks: { key: string; userId: number | string; userName: string; bytes: number; gaps: Gap[] }[];
  participants: { user_id: number | string; user_name: string; first_seen: number; last_seen: number }[];
  counts: Partial<Record<keyof RecorderStats['frames'] | 'decode_errors' | 'dropped', number>>;
  segments: CaptionSegment[];
  /** Speech-to-text tracks (transcript.<source>.jsonl) by source. */
  tracksBySource: Map<string, CaptionSegment[]>;
  resumedAt: string[];
  chat: Record<string, unknown>[];
  pauses: Pause[];
  firstPacketAt?: string;
}

/** Reads the recording an earlier connection left in `dir`; undefined when there is none. */
function readPrevious(dir: string): Previous | undefined {
  let m: Record<string, any>;
  try {
    m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const startMs = Date.parse(m.started_at);
  if (!Number.isFinite(startMs)) return undefined;
  const rate = Number(m.audio?.sample_rate) || 16000;
  const channels = Number(m.audio?.channels) || 1;
  const multi = m.audio?.multi_stream === true;
  const names = new Map<string, string>(((m.participants ?? []) as Previous['participants']).map((p) => [String(p.user_id), p.user_name]));
  const userOf = new Map<string, number | string | null>(((m.files ?? []) as { path: string; user_id: number | string | null }[]).map((f) => [f.path, f.user_id]));
  const tracks: Previous['tracks'] = [];
  for (const file of readdirSafe(join(dir, 'audio'))) {
    if (!file.endsWith('.wav')) continue;
    const userId = userOf.get(`audio/${file}`) ?? null;
    if (multi && userId === null) continue; // mixed.wav of a multi-stream recording is remade at close
    const key = userId === null ? 'mixed' : String(userId);
    const bytes = Math.max(0, statSync(join(dir, 'audio', file)).size - 44);
    const gaps = ((m.gaps ?? []) as (Gap & { track: string })[]).filter((g) => g.track === key).map(({ atMs, durationMs }) => ({ atMs, durationMs }));
    tracks.push({ key, userId: userId ?? 0, userName: names.get(key) ?? '', bytes, gaps });
  }
  const segments: CaptionSegment[] = [];
  let text = '';
  try {
    text = readFileSync(join(dir, 'transcript.jsonl'), 'utf8');
  } catch {
    // no transcript yet
  }
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const t = JSON.parse(line);
      segments.push({ text: t.text, userName: t.user_name, timestamp: t.timestamp, startTime: t.start_time, endTime: t.end_time });
    } catch {
      // a line torn by the crash: the rest still counts
    }
  }
  const tracksBySource = new Map<string, CaptionSegment[]>();
  for (const file of readdirSafe(dir)) {
    const m = /^transcript\.(.+)\.jsonl$/.exec(file);
    if (!m) continue;
    const list: CaptionSegment[] = [];
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const t = JSON.parse(line);
        list.push({ text: t.text, userName: t.user_name, timestamp: t.timestamp, startTime: t.start_time, endTime: t.end_time });
      } catch {
        // torn by the crash
      }
    }
    tracksBySource.set(m[1], list);
  }
  // chat.jsonl always holds the chat's final state (see Recorder.#rewriteChat): the ledger starts from it.
  const chat: Record<string, unknown>[] = [];
  let chatText = '';
  try {
    chatText = readFileSync(join(dir, 'chat.jsonl'), 'utf8');
  } catch {
    // no chat yet
  }
  for (const line of chatText.split('\n')) {
    if (!line) continue;
    try {
      chat.push(JSON.parse(line));
    } catch {
      // torn by the crash
    }
  }
  return {
    startMs,
    rate,
    channels,
    multi,
    tracks,
    participants: m.participants ?? [],
    counts: m.counts ?? {},
    segments,
    tracksBySource,
    resumedAt: m.resumed_at ?? [],
    chat,
    pauses: PauseLog.fromManifest(m.pauses),
    ...(typeof m.first_packet_at === 'string' ? { firstPacketAt: m.first_packet_at } : {}),
  };
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

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
  /** Failed disk writes (disk full, file too large, I/O errors); the recording carries on. */
  writeErrors: number;
  /** The last one, e.g. `ENOSPC: no space left on device (audio/mixed.wav)`. */
  lastWriteError?: string;
}

export class Recorder implements StreamSink {
  readonly dir: string;
  readonly stats: RecorderStats = { frames: { audio: 0, video: 0, share: 0, transcript: 0, chat: 0 }, decodeErrors: 0, dropped: 0, writeErrors: 0 };
  #info: StreamInfo;
  #ready: Promise<void>;
  #decoder?: AudioDecoder;
  #rate = 16000;
  #channels = 1;
  #multi = false;
  #tracks = new Map<string, Track>();
  /** The track of the last audio frame's user: consecutive frames (all of mixed audio) skip the lookup. */
  #lastTrack?: { userId: number | string; track: Track };
  #startMs?: number;
  #lastMs = 0;
  #text = new Map<string, string[]>();
  #textBytes = 0;
  #segments: CaptionSegment[] = [];
  /** Speech-to-text tracks by source: transcript.<source>.jsonl, and .vtt/.srt at close. */
  #tracksBySource = new Map<string, CaptionSegment[]>();
  #participants = new Map<string, { user_id: number | string; user_name: string; first_seen: number; last_seen: number }>();
  readonly #stopFlushing: () => void;
  readonly #stopManifests: () => void;
  #closing?: Promise<void>;
  #stoppedAt?: number;
  #manifestChain: Promise<void> = Promise.resolve();
  #videoCodec: Record<'video' | 'deskshare', number> = { video: Codec.H264, deskshare: Codec.H264 };
  #individualVideo = false;
  #videoTracks = new Map<string, VideoTrack>();
  #frameWrites = new Set<Promise<void>>();
  #resumedAt: string[] = [];
  /** Set when this recorder only closes what a dead writer left (option `finalize`, see {@link finalizeRecording}). */
  #finalizedAt?: string;
  #textChain: Promise<void> = Promise.resolve();
  #textSoon = false;
  /** Bytes known to be in each text file, to cut a torn append back to whole lines. */
  #textSizes = new Map<string, number>();
  /** Append handles of the text files, open for the recording's life: opening per line cost more than writing it. */
  #textHandles = new Map<string, Promise<FileHandle>>();
  #textClosed = false;
  /** The directory is known to exist (the periodic manifest skips its mkdir). */
  #dirKnown = false;
  /** {@link Recorder.#manifestNews} and the time of the last manifest write. */
  #manifestNewsWritten = '';
  #manifestAt = 0;
  readonly #manifestQuietMs: number;
  #report?: (err: unknown) => void;
  /** A write failed since the last report (one report per outage, not per write). */
  #failing = false;
  #writeErrorsAtFlush = 0;
  #wavErrors = 0;
  #dirFailed = false;
  /** The chat's final state: chat.jsonl is rewritten from it when a message is edited, deleted or reacted to. */
  #chat = new ChatLedger();
  /** Edits and deletes also go to chat-audit.jsonl (option `chatAudit`, env OPENRTMS_CHAT_AUDIT=1). */
  readonly #chatAudit: boolean;
  #chatRewrite = false;
  #pauses = new PauseLog();
  #firstPacketAt?: string;

  /**
   * `flushMs`: audio write period (default 500 ms); shorter loses less in a crash, costs more writes.
   * `manifestMs` / `manifestQuietMs`: manifest period (5 s) and, when only durations and counts
   * changed, the longer one (20 s).
   * `finalize`: only close what an earlier writer left (the stream has ended; see {@link finalizeRecording}).
   * `chatAudit`: keep every chat edit and delete (with the text before) in chat-audit.jsonl. Default: env
   * OPENRTMS_CHAT_AUDIT=1, else off — by default a deleted message leaves no trace in the recording.
   */
  constructor(options: { dataDir: string; info: StreamInfo; flushMs?: number; manifestMs?: number; manifestQuietMs?: number; finalize?: boolean; chatAudit?: boolean }) {
    this.#manifestQuietMs = options.manifestQuietMs ?? MANIFEST_QUIET_MS;
    this.#chatAudit = options.chatAudit ?? chatAuditFromEnv();
    this.#info = options.info;
    this.dir = join(options.dataDir, 'recordings', safeName(options.info.rtmsStreamId));
    if (options.finalize) this.#finalizedAt = new Date().toISOString();
    if (options.info.resume || options.finalize) this.#resume();
    this.#ready = mkdir(join(this.dir, 'audio'), { recursive: true }).then(
      () => this.#writeManifest(),
      (err) => this.#writeFailed(err, 'recording directory'),
    );
    this.#stopFlushing = everyShared(options.flushMs ?? FLUSH_MS, () => void this.#flush());
    this.#stopManifests = everyShared(options.manifestMs ?? MANIFEST_MS, () => this.#periodicManifest());
  }

  /** Continues what an earlier connection recorded: same files, the time in between becomes a gap. */
  #resume(): void {
    const prev = readPrevious(this.dir);
    if (!prev) return;
    this.#startMs = prev.startMs;
    this.#rate = prev.rate;
    this.#channels = prev.channels;
    this.#multi = prev.multi;
    this.#segments = prev.segments;
    this.#tracksBySource = prev.tracksBySource;
    for (const line of prev.chat) this.#chat.load(line);
    this.#pauses = new PauseLog(prev.pauses);
    this.#firstPacketAt = prev.firstPacketAt;
    // Finalizing is not a takeover: nothing more is received.
    this.#resumedAt = this.#finalizedAt ? prev.resumedAt : [...prev.resumedAt, new Date().toISOString()];
    for (const p of prev.participants) this.#participants.set(String(p.user_id), { ...p });
    for (const k of Object.keys(this.stats.frames) as (keyof RecorderStats['frames'])[]) this.stats.frames[k] = prev.counts[k] ?? 0;
    this.stats.decodeErrors = prev.counts.decode_errors ?? 0;
    this.stats.dropped = prev.counts.dropped ?? 0;
    for (const t of prev.tracks) {
      const path = join(this.dir, 'audio', `${t.key === 'mixed' ? 'mixed' : safeName(t.key)}.wav`);
      const writer = new WavWriter(path, prev.rate, prev.channels, undefined, t.bytes);
      const filler = new GapFiller(prev.startMs, prev.rate);
      filler.position = writer.samples;
      filler.gaps.push(...t.gaps);
      this.#tracks.set(t.key, { writer, filler, userId: t.userId, userName: t.userName });
      this.#lastMs = Math.max(this.#lastMs, prev.startMs + (writer.samples * 1000) / prev.rate);
    }
  }

  /** Failed writes are reported here (once per outage, and a summary at close). See {@link StreamSink.setErrorReporter}. */
  setErrorReporter(report: (err: unknown) => void): void {
    this.#report = report;
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
    this.#lastTrack = undefined;
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
    if (this.#startMs === undefined) {
      this.#startMs = f.timestamp;
      // The start is what a later takeover aligns its audio to: on disk before the audio is.
      void this.#writeManifest();
    }
    const track = this.#lastTrack?.userId === f.userId ? this.#lastTrack.track : this.#trackFor(f);
    const frameMs = (pcm.length / this.#channels / this.#rate) * 1000;
    this.#lastMs = Math.max(this.#lastMs, f.timestamp + frameMs);
    const { silence, skip } = track.filler.place(f.timestamp, pcm.length / this.#channels);
    track.writer.silence(silence);
    track.writer.write(skip ? pcm.subarray(skip * this.#channels) : pcm);
    if (f.userId !== 0) this.#seen(f.userId, f.userName, f.timestamp);
  }

  #trackFor(f: AudioFrame): Track {
    const key = this.#multi && f.userId !== 0 ? String(f.userId) : 'mixed';
    let track = this.#tracks.get(key);
    if (!track) {
      track = { writer: new WavWriter(join(this.dir, 'audio', `${key === 'mixed' ? 'mixed' : safeName(key)}.wav`), this.#rate, this.#channels), filler: new GapFiller(this.#startMs!, this.#rate), userId: f.userId, userName: f.userName };
      this.#tracks.set(key, track);
    }
    this.#lastTrack = { userId: f.userId, track };
    return track;
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
      const path = (n: number) => join(this.dir, `${name}${n ? `-${n + 1}` : ''}.mp4`);
      // After a takeover the earlier connection's segments stay; new ones get the next numbers.
      let first = 0;
      if (this.#resumedAt.length) while (existsSync(path(first))) first++;
      track = new VideoTrack((n) => path(n + first), { onWriteError: (err, file) => this.#writeFailed(err, file.slice(this.dir.length + 1)) });
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
    this.#line('transcript.jsonl', {
      timestamp: t.timestamp,
      start_time: t.startTime,
      end_time: t.endTime,
      user_id: t.userId,
      user_name: t.userName,
      text: t.text,
      language: t.language,
      ...(t.attribute !== undefined ? { attribute: t.attribute } : {}),
      ...(t.targetLanguage !== undefined ? { target_language: t.targetLanguage } : {}),
    });
  }

  /** A speech-to-text segment: a line of transcript.<source>.jsonl (Zoom's own track keeps transcript.jsonl). */
  onTrackSegment(s: TrackSegment): void {
    let list = this.#tracksBySource.get(s.source);
    if (!list) this.#tracksBySource.set(s.source, (list = []));
    list.push({ text: s.text, userName: s.userName, timestamp: s.timestamp, startTime: s.startTime, endTime: s.endTime });
    this.#line(`transcript.${s.source}.jsonl`, {
      timestamp: s.timestamp,
      start_time: s.startTime,
      end_time: s.endTime,
      user_id: s.userId,
      user_name: s.userName,
      text: s.text,
      ...(s.language !== undefined ? { language: s.language } : {}),
      ...(s.words?.length ? { words: s.words.map((w) => ({ text: w.text, start_time: w.startTime, end_time: w.endTime, ...(w.confidence !== undefined ? { confidence: w.confidence } : {}) })) } : {}),
    });
  }

  onChat(c: ChatMessage): void {
    this.stats.frames.chat++;
    this.#seen(c.userId, c.userName, c.timestamp);
    const change = this.#chat.apply(c);
    if (this.#chatAudit && (change.kind === 'update' || change.kind === 'delete')) {
      this.#line('chat-audit.jsonl', {
        timestamp: c.timestamp,
        operation: change.kind,
        message_id: c.messageId,
        user_id: c.userId,
        user_name: c.userName,
        ...(change.kind === 'update' ? { text: change.entry.text, previous_text: change.previousText } : { previous_text: change.entry.text }),
      });
    }
    // A new message is appended; any other change rewrites the file, so it never holds a deleted message or an old text.
    if (change.kind === 'add') this.#line('chat.jsonl', chatLine(change.entry));
    else if (change.kind !== 'ignored') this.#rewriteChat();
  }

  /**
   * Replaces chat.jsonl with the ledger's state (written aside, then renamed), on the text chain so it lands
   * after every append queued before it. Lines still waiting in the buffer are in the ledger already.
   */
  #rewriteChat(): void {
    const pending = this.#text.get('chat.jsonl');
    if (pending) {
      for (const l of pending) this.#textBytes -= l.length;
      this.#text.delete('chat.jsonl');
    }
    if (this.#chatRewrite) return; // one rewrite already queued will write the latest state
    this.#chatRewrite = true;
    const file = 'chat.jsonl';
    this.#textChain = this.#textChain
      .then(() => this.#ready)
      .then(async () => {
        this.#chatRewrite = false;
        // The append handle points at the file being replaced: closed, so the next append opens the new one.
        const handle = this.#textHandles.get(file);
        this.#textHandles.delete(file);
        await handle?.then((fh) => fh.close()).catch(() => {});
        const body = this.#chat.entries().map((e) => JSON.stringify(chatLine(e)) + '\n').join('');
        const tmp = join(this.dir, `${file}.tmp`);
        await writeFile(tmp, body);
        await rename(tmp, join(this.dir, file));
        this.#textSizes.set(file, Buffer.byteLength(body));
      })
      .catch((err) => {
        this.#chatRewrite = false;
        this.#writeFailed(err, file);
      });
  }

  onEvent(e: TimelineEvent): void {
    if (e.userId !== undefined && e.userName) this.#seen(e.userId, e.userName, e.timestamp);
    if (e.type === 'closed') this.#stoppedAt = e.timestamp;
    else if (e.type === 'paused') this.#pauses.pause(e.timestamp);
    else if (e.type === 'resumed') this.#pauses.resume(e.timestamp);
    else if (e.type === 'first_packet') this.#firstPacketAt ??= new Date(e.timestamp).toISOString();
    this.#line('events.jsonl', { type: e.type, timestamp: e.timestamp, user_id: e.userId, user_name: e.userName, ...e.data });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopFlushing();
      this.#stopManifests();
      this.#stoppedAt ??= Date.now();
      // Every track ends at the last audio instant, so all files have the stream's duration.
      for (const t of this.#tracks.values()) t.writer.silence(t.filler.padTo(this.#lastMs));
      await this.#flush();
      await Promise.all([...this.#tracks.values()].map((t) => t.writer.close()));
      this.#noteWavErrors();
      // Text lines a failing disk would not take are lost now; counted.
      for (const lines of this.#text.values()) this.stats.dropped += lines.length;
      this.#text.clear();
      // Lines after this (a late event) are appended by opening the file each time.
      this.#textClosed = true;
      await this.#textChain;
      await Promise.all([...this.#textHandles.values()].map((h) => h.then((fh) => fh.close()).catch(() => {})));
      this.#textHandles.clear();
      await Promise.all([...this.#videoTracks.values()].map((v) => v.close()));
      await Promise.all(this.#frameWrites);
      if (this.#multi && this.#tracks.size > 0 && !this.#tracks.has('mixed')) await this.#mixDown().catch((err) => this.#writeFailed(err, 'audio/mixed.wav'));
      await this.#ready;
      const t0 = this.#startMs ?? this.#info.startedAt;
      await writeFile(join(this.dir, 'transcript.vtt'), toVtt(this.#segments, t0)).catch((err) => this.#writeFailed(err, 'transcript.vtt'));
      await writeFile(join(this.dir, 'transcript.srt'), toSrt(this.#segments, t0)).catch((err) => this.#writeFailed(err, 'transcript.srt'));
      for (const [source, segs] of this.#tracksBySource) {
        // Each connection answers on its own: captions in time order.
        const sorted = [...segs].sort((a, b) => (a.startTime ?? a.timestamp) - (b.startTime ?? b.timestamp));
        await writeFile(join(this.dir, `transcript.${source}.vtt`), toVtt(sorted, t0)).catch((err) => this.#writeFailed(err, `transcript.${source}.vtt`));
        await writeFile(join(this.dir, `transcript.${source}.srt`), toSrt(sorted, t0)).catch((err) => this.#writeFailed(err, `transcript.${source}.srt`));
      }
      await this.#writeManifest(true);
      if (this.stats.writeErrors > 0) {
        const lostMs = Math.round(([...this.#tracks.values()].reduce((n, t) => Math.max(n, t.writer.lostSamples), 0) * 1000) / this.#rate);
        this.#report?.(
          new RecordingError(
            'RECORDING_WRITE_FAILED',
            `recording of stream ${this.#info.rtmsStreamId} finished after ${this.stats.writeErrors} failed disk write(s), last: ${this.stats.lastWriteError}; ` +
              `${lostMs} ms of audio are silence, ${this.stats.dropped} text line(s) lost; see ${join(this.dir, 'manifest.json')}`,
            { rtmsStreamId: this.#info.rtmsStreamId, writeErrors: this.stats.writeErrors, lostAudioMs: lostMs, droppedLines: this.stats.dropped },
          ),
        );
      }
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
    // Text lines are few and precious (a killed process must not take the last ones with it):
    // written on the next turn, not at the next audio flush.
    if (!this.#textSoon) {
      this.#textSoon = true;
      setImmediate(() => {
        this.#textSoon = false;
        void this.#flushText();
      });
    }
  }

  /** Appends the buffered text lines; serialized so lines keep their order across writes. */
  #flushText(): Promise<void> {
    const text = this.#text;
    if (!text.size) return this.#textChain;
    this.#text = new Map();
    this.#textChain = this.#textChain
      .then(() => this.#ready)
      .then(() => Promise.all([...text].map(([file, lines]) => this.#append(file, lines))))
      .then(() => {});
    return this.#textChain;
  }

  /**
   * Appends lines to a text file. When the disk refuses them, a torn append is cut back to whole
   * lines and the lines are kept (before newer ones) for the next flush: nothing is lost while the
   * outage lasts less than MAX_TEXT_BUFFER of text.
   */
  async #append(file: string, lines: string[]): Promise<void> {
    const path = join(this.dir, file);
    const chunk = lines.join('');
    let size = this.#textSizes.get(file);
    try {
      size ??= await stat(path).then(
        (st) => st.size,
        () => 0,
      );
      if (this.#textClosed) await appendFile(path, chunk);
      else {
        let handle = this.#textHandles.get(file);
        if (!handle) this.#textHandles.set(file, (handle = open(path, 'a')));
        await (await handle).appendFile(chunk);
      }
      this.#textSizes.set(file, size + Buffer.byteLength(chunk));
      this.#textBytes -= chunk.length;
    } catch (err) {
      this.#writeFailed(err, file);
      // Opened again by the next append (the file may have been removed, the disk remounted).
      const handle = this.#textHandles.get(file);
      this.#textHandles.delete(file);
      await handle?.then((fh) => fh.close()).catch(() => {});
      if (size !== undefined) await truncate(path, size).catch(() => {});
      this.#text.set(file, lines.concat(this.#text.get(file) ?? []));
    }
  }

  async #flush(): Promise<void> {
    await this.#ready;
    if (this.#dirFailed) {
      await mkdir(join(this.dir, 'audio'), { recursive: true }).then(
        () => (this.#dirFailed = false),
        () => {},
      );
    }
    await Promise.all([...[...this.#tracks.values()].map((t) => t.writer.flush()), this.#flushText()]);
    this.#noteWavErrors();
    // A whole flush without a failure ends the outage: the next failure is reported again.
    if (this.stats.writeErrors === this.#writeErrorsAtFlush && ![...this.#tracks.values()].some((t) => t.writer.failing)) this.#failing = false;
    this.#writeErrorsAtFlush = this.stats.writeErrors;
  }

  /** Takes the WAV writers' new failures into the recorder's count (they never reject). */
  #noteWavErrors(): void {
    let total = 0;
    let last: Track | undefined;
    for (const t of this.#tracks.values()) {
      total += t.writer.writeErrors;
      if (t.writer.failing || (t.writer.writeErrors && !last)) last = t;
    }
    const fresh = total - this.#wavErrors;
    if (fresh <= 0 || !last) return;
    this.#wavErrors = total;
    this.#writeFailed(last.writer.lastError, `audio/${basename(last.writer.path)}`, fresh);
  }

  /** Counts a failed write and reports the first of an outage. The recording carries on. */
  #writeFailed(err: unknown, what: string, n = 1): void {
    const e = err as { code?: string; message?: string } | undefined;
    this.stats.writeErrors += n;
    this.stats.lastWriteError = `${e?.message ?? String(err)} (${what})`;
    if (what === 'recording directory') this.#dirFailed = true;
    if (this.#failing) return;
    this.#failing = true;
    this.#report?.(
      new RecordingError(
        'RECORDING_WRITE_FAILED',
        `recording of stream ${this.#info.rtmsStreamId}: cannot write ${what} (${e?.code ?? e?.message ?? err}); the stream goes on, audio meanwhile becomes silence and the recording resumes when the disk takes writes again`,
        { rtmsStreamId: this.#info.rtmsStreamId, file: what, code: e?.code },
        { cause: err },
      ),
    );
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

  /** What a reader of the manifest cares about beyond durations and counts; unchanged means the periodic write can wait. */
  #manifestNews(): string {
    let gaps = 0;
    for (const t of this.#tracks.values()) gaps += t.filler.gaps.length;
    let segments = 0;
    for (const v of this.#videoTracks.values()) segments += v.segments.length + v.gaps.length;
    return `${this.#startMs}|${this.#participants.size}|${this.#tracks.size}|${gaps}|${segments}|${this.stats.writeErrors}|${this.stats.dropped}|${this.stats.decodeErrors}|${this.#pauses.news()}|${this.#tracksBySource.size}`;
  }

  #periodicManifest(): void {
    const news = this.#manifestNews();
    if (news === this.#manifestNewsWritten && Date.now() - this.#manifestAt < this.#manifestQuietMs) return;
    void this.#writeManifest();
  }

  /** Manifest writes are serialized so a periodic write never lands after the final one. */
  #writeManifest(final = false): Promise<void> {
    this.#manifestChain = this.#manifestChain
      .then(() => this.#writeManifestNow(final))
      .catch((err) => {
        this.#dirKnown = false;
        this.#manifestNewsWritten = ''; // the next period tries again
        this.#writeFailed(err, 'manifest.json');
      });
    return this.#manifestChain;
  }

  async #writeManifestNow(final: boolean): Promise<void> {
    this.#manifestNewsWritten = this.#manifestNews();
    this.#manifestAt = Date.now();
    if (!this.#dirKnown) {
      await mkdir(this.dir, { recursive: true });
      this.#dirKnown = true;
    }
    const files = [...this.#tracks.entries()].map(([key, t]) => ({ path: `audio/${key === 'mixed' ? 'mixed' : safeName(key)}.wav`, kind: 'audio', user_id: key === 'mixed' ? null : t.userId, duration_ms: Math.round(t.writer.durationMs) }));
    if (this.#multi && final && !this.#tracks.has('mixed') && files.length) files.unshift({ path: 'audio/mixed.wav', kind: 'audio', user_id: null, duration_ms: Math.max(...files.map((f) => f.duration_ms)) });
    for (const v of this.#videoTracks.values()) {
      // start_ms: where the segment starts on the recording's timeline (the WAV files start at started_at).
      for (const seg of v.segments) files.push({ path: seg.path.slice(this.dir.length + 1), kind: seg.path.includes('/share/') ? 'share' : 'video', user_id: null, duration_ms: Math.round(seg.durationMs), width: seg.width, height: seg.height, frames: seg.frames, start_ms: seg.startTimestamp - (this.#startMs ?? this.#info.startedAt) } as never);
    }
    for (const f of ['transcript.jsonl', 'transcript.vtt', 'transcript.srt', 'chat.jsonl', 'events.jsonl', ...(this.#chatAudit ? ['chat-audit.jsonl'] : [])]) files.push({ path: f, kind: f.split('.')[0], user_id: null, duration_ms: 0 });
    // Speech-to-text tracks: the JSONL from the first segment, captions once written at close.
    for (const source of this.#tracksBySource.keys()) {
      for (const ext of final ? ['jsonl', 'vtt', 'srt'] : ['jsonl']) files.push({ path: `transcript.${source}.${ext}`, kind: 'transcript', user_id: null, duration_ms: 0, source } as never);
    }
    const gaps: (Gap & { track: string })[] = [];
    const t0 = this.#startMs ?? this.#info.startedAt;
    for (const [key, t] of this.#tracks) {
      for (const g of t.filler.gaps) {
        // Silence while the app was paused keeps the timeline aligned, but it is a pause, not lost audio.
        if (this.#pauses.covers(t0 + g.atMs, g.durationMs)) continue;
        gaps.push({ track: key, atMs: Math.round(g.atMs), durationMs: Math.round(g.durationMs) });
      }
    }
    for (const [name, v] of this.#videoTracks) {
      // Video the disk refused (full, file too large): not in any file; the next file starts at a keyframe.
      for (const g of v.gaps) gaps.push({ track: name, atMs: Math.round(g.atTs - t0), durationMs: Math.round(g.durationMs ?? 0), ...(g.durationMs === undefined ? { ongoing: true } : {}) } as Gap & { track: string });
    }
    const manifest = {
      rtms_stream_id: this.#info.rtmsStreamId,
      meeting_uuid: this.#info.meetingUuid,
      product: this.#info.product,
      started_at: new Date(this.#startMs ?? this.#info.startedAt).toISOString(),
      stopped_at: final && this.#stoppedAt ? new Date(this.#stoppedAt).toISOString() : null,
      complete: final,
      ...(this.#resumedAt.length ? { resumed_at: this.#resumedAt } : {}),
      ...(this.#finalizedAt ? { finalized_at: this.#finalizedAt } : {}),
      ...(this.#firstPacketAt ? { first_packet_at: this.#firstPacketAt } : {}),
      pauses: this.#pauses.toManifest(final ? this.#stoppedAt : undefined),
      audio: { sample_rate: this.#rate, channels: this.#channels, multi_stream: this.#multi },
      participants: [...this.#participants.values()],
      files,
      gaps,
      ...(this.stats.writeErrors ? { last_write_error: this.stats.lastWriteError } : {}),
      counts: { ...this.stats.frames, decode_errors: this.stats.decodeErrors, dropped: this.stats.dropped, write_errors: this.stats.writeErrors, audio_samples_lost_write_errors: [...this.#tracks.values()].reduce((n, t) => n + t.writer.lostSamples, 0), audio_samples_dropped_slow_disk: [...this.#tracks.values()].reduce((n, t) => n + t.writer.droppedSamples, 0), video_skipped_before_keyframe: [...this.#videoTracks.values()].reduce((n, v) => n + v.skipped, 0), video_dropped_slow_disk: [...this.#videoTracks.values()].reduce((n, v) => n + v.dropped, 0), video_lost_write_errors: [...this.#videoTracks.values()].reduce((n, v) => n + v.lostToWriteErrors, 0) },
    };
    // Written aside and renamed, so a crash never leaves a torn manifest for the next reader.
    const tmp = join(this.dir, 'manifest.json.tmp');
    try {
      await writeFile(tmp, JSON.stringify(manifest, null, 2));
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => {}); // a torn copy would only take space
      throw err;
    }
    await rename(tmp, join(this.dir, 'manifest.json'));
  }
}

/**
 * Closes a recording whose writer died before the stream ended (a cluster worker killed, the stream
 * stopped before another took it over): WAV headers made exact, captions (VTT, SRT) written from
 * transcript.jsonl, a `closed` line in events.jsonl, and the manifest marked complete with the
 * stream's stop time and `finalized_at`. Audio is not padded to the stop: the end that nobody
 * received is not in the files. Resolves false when there is nothing to do (no recording, or one
 * already complete).
 */
export async function finalizeRecording(o: { dataDir: string; info: StreamInfo; stoppedAt: number; cause?: string }): Promise<boolean> {
  const dir = join(o.dataDir, 'recordings', safeName(o.info.rtmsStreamId));
  const manifest = await readFile(join(dir, 'manifest.json'), 'utf8').then((t) => JSON.parse(t) as { complete?: boolean }, () => undefined);
  if (!manifest || manifest.complete === true) return false;
  const recorder = new Recorder({ dataDir: o.dataDir, info: o.info, finalize: true });
  recorder.onEvent({ type: 'closed', timestamp: o.stoppedAt, data: { reason: 'finalized', cause: o.cause } });
  await recorder.close();
  return true;
}
