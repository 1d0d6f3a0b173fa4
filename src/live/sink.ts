/**
 * LiveSink: the pipeline's sink that turns one stream into live-feed messages on a {@link LiveBus}:
 * transcript lines, chat, participants joining and leaving, the active speaker, audio levels per
 * participant (RMS dBFS of the decoded PCM, ~10 per second each), connection state, and notices
 * that a new thumbnail can be fetched. Frame handlers only decode, add up and publish: no I/O.
 *
 * Levels are metered only while some subscriber of the bus would receive them (the dashboard, a
 * `/api/live` socket): a server nobody watches spends nothing on them.
 */
import { createAudioDecoder, type AudioDecoder } from '../media/codec.js';
import { Codec, SAMPLE_RATE_HZ, type MediaParams, type SampleRate } from '../protocol/index.js';
import type { AudioFrame, ChatMessage, StreamInfo, StreamSink, TimelineEvent, TrackSegment, TranscriptFrame, VideoFrame } from '../pipeline/types.js';
import type { LiveBus } from './bus.js';
import { LevelMeter } from './levels.js';
import { findFfmpeg, h264Info, h264ToJpeg, imageType, keyframeMp4, parameterSets, type ThumbnailKind, ThumbnailStore } from './thumbnails.js';
import type { LiveChatMessage, LiveSnapshotMessage } from './types.js';
import { ChatLedger, type ChatEntry } from '../pipeline/chat-ledger.js';

export interface LiveSinkOptions {
  /** Where the latest thumbnails are kept (shared with the API). Without it, no thumbnails. */
  thumbnails?: ThumbnailStore;
  /** `ffmpeg` to decode H.264 keyframes to JPEG; default: found on PATH; `false`: one-frame MP4s instead. */
  ffmpeg?: string | false;
  /** Shortest time between two level messages of one participant. Default 100 ms. */
  levelIntervalMs?: number;
  /** Shortest time between two thumbnails of one kind. Default 1000 ms. */
  thumbnailIntervalMs?: number;
  /** URL of a thumbnail, as sent in `thumbnail` messages. Default `/api/streams/:id/thumbnail/:kind`. */
  thumbnailUrl?: (streamId: string, kind: ThumbnailKind) => string;
  /** Told of each audio frame that could not be decoded (for metrics). */
  onDecodeError?: (err: unknown) => void;
}

interface Speaker {
  name: string;
  meter: LevelMeter;
  /** Per-speaker decoder for stateful codecs (G.722, Opus). */
  decoder?: AudioDecoder;
  windowStart: number;
  dbfs?: number;
}

interface VideoState {
  lastAt: number;
  keyframe?: Buffer;
  params?: Buffer;
  userId: string;
  timer?: NodeJS.Timeout;
  busy: boolean;
}

const defaultUrl = (id: string, kind: ThumbnailKind) => `/api/streams/${encodeURIComponent(id)}/thumbnail/${kind}`;

export class LiveSink implements StreamSink {
  readonly streamId: string;
  #bus: LiveBus;
  #info: StreamInfo;
  #o: LiveSinkOptions;
  #interval: number;
  #codec = Codec.L16 as number;
  #rate = 16000;
  #channels = 1;
  #shared?: AudioDecoder;
  #stateful = false;
  #speakers = new Map<string, Speaker>();
  #present = new Map<string, string>();
  #active?: { userId: string; userName: string };
  #state = 'starting';
  /** The chat as it stands, so a reaction can be sent as the message's whole reaction list. */
  #chat = new ChatLedger();
  #video = new Map<ThumbnailKind, VideoState>();
  #ffmpeg: string | false;
  #closed = false;
  /** Whether anyone receives this stream's levels, as of bus generation `#watchedAt`. */
  #watched = false;
  #watchedAt = -1;

  constructor(bus: LiveBus, info: StreamInfo, options: LiveSinkOptions = {}) {
    this.#bus = bus;
    this.#info = info;
    this.#o = options;
    this.streamId = info.rtmsStreamId;
    this.#interval = options.levelIntervalMs ?? 100;
    this.#ffmpeg = options.thumbnails ? (options.ffmpeg ?? findFfmpeg()) : false;
    bus.setSnapshot(this.streamId, () => this.snapshot());
    bus.publish({ type: 'stream', streamId: this.streamId, action: 'started', meetingUuid: info.meetingUuid, product: info.product, startedAt: info.startedAt, timestamp: Date.now() });
  }

  /** The present state of the stream, as sent to a new subscriber. */
  snapshot(): LiveSnapshotMessage {
    const participants = [...this.#present].map(([userId, userName]) => ({ userId, userName, dbfs: this.#speakers.get(userId)?.dbfs }));
    const mixed = this.#speakers.get('0');
    if (mixed && !this.#present.has('0')) participants.unshift({ userId: '0', userName: 'All (mixed)', dbfs: mixed.dbfs });
    const thumbnails = (this.#o.thumbnails?.kinds(this.streamId) ?? []).map((kind) => ({ kind, url: this.#url(kind), timestamp: this.#o.thumbnails!.get(this.streamId, kind)!.timestamp }));
    return { type: 'snapshot', streamId: this.streamId, state: this.#state, participants, activeSpeaker: this.#active, thumbnails, timestamp: Date.now() };
  }

  onJoined(params: MediaParams): void {
    const a = params.audio;
    if (!a) return;
    const codec = a.codec ?? Codec.L16;
    const rate = SAMPLE_RATE_HZ[(a.sample_rate ?? 1) as SampleRate] ?? 16000;
    const channels = a.channel ?? 1;
    if (this.#shared && codec === this.#codec && rate === this.#rate && channels === this.#channels) return;
    this.#destroyDecoders();
    this.#codec = codec;
    this.#rate = rate;
    this.#channels = channels;
    this.#stateful = codec === Codec.G722 || codec === Codec.OPUS;
    try {
      this.#shared = this.#stateful ? undefined : createAudioDecoder(codec, rate, channels);
    } catch (err) {
      this.#o.onDecodeError?.(err);
    }
  }

  onAudio(frame: AudioFrame): void {
    if (this.#watchedAt !== this.#bus.generation) this.#checkWatched(frame.receivedAt);
    if (!this.#watched) return;
    const id = String(frame.userId);
    let sp = this.#speakers.get(id);
    if (!sp) {
      sp = { name: frame.userName || this.#present.get(id) || (id === '0' ? 'All (mixed)' : id), meter: new LevelMeter(), windowStart: frame.receivedAt };
      this.#speakers.set(id, sp);
    }
    let decoder = this.#shared;
    if (this.#stateful) {
      try {
        decoder = sp.decoder ??= createAudioDecoder(this.#codec, this.#rate, this.#channels);
      } catch (err) {
        this.#o.onDecodeError?.(err);
        return;
      }
    } else if (!decoder) {
      decoder = this.#shared = createAudioDecoder(Codec.L16, this.#rate, this.#channels);
    }
    try {
      sp.meter.add(decoder.decode(frame.data));
    } catch (err) {
      this.#o.onDecodeError?.(err);
      return;
    }
    if (frame.receivedAt - sp.windowStart < this.#interval) return;
    sp.windowStart = frame.receivedAt;
    const { dbfs, peak } = sp.meter.read();
    sp.dbfs = dbfs;
    if (frame.userName && frame.userName !== sp.name) sp.name = frame.userName;
    this.#bus.publish({ type: 'level', streamId: this.streamId, userId: id, userName: sp.name, dbfs, peak, timestamp: frame.receivedAt });
  }

  /** Levels start afresh when someone starts watching: nothing metered before counts, and stateful decoders restart. */
  #checkWatched(now: number): void {
    this.#watchedAt = this.#bus.generation;
    const watched = this.#bus.wants(this.streamId, 'level');
    if (watched === this.#watched) return;
    this.#watched = watched;
    for (const sp of this.#speakers.values()) {
      sp.meter.read();
      sp.windowStart = now;
      sp.dbfs = undefined;
      sp.decoder?.destroy?.();
      sp.decoder = undefined;
    }
  }

  onVideo(frame: VideoFrame): void {
    this.#frame(frame, 'video');
  }
  onShare(frame: VideoFrame): void {
    this.#frame(frame, 'deskshare');
  }

  #frame(frame: VideoFrame, kind: ThumbnailKind): void {
    const store = this.#o.thumbnails;
    if (!store || this.#closed) return;
    let v = this.#video.get(kind);
    if (!v) this.#video.set(kind, (v = { lastAt: 0, userId: '', busy: false }));
    const every = this.#o.thumbnailIntervalMs ?? 1000;
    const type = imageType(frame.data);
    if (type) {
      if (frame.receivedAt - v.lastAt < every) return;
      v.lastAt = frame.receivedAt;
      store.set(this.streamId, kind, { data: frame.data, contentType: type, userId: String(frame.userId), timestamp: frame.receivedAt });
      this.#notice(kind, type, String(frame.userId), frame.receivedAt);
      return;
    }
    const info = h264Info(frame.data);
    if (info.sps && info.pps && !info.idr) v.params = parameterSets(frame.data);
    if (!info.idr) return;
    v.keyframe = info.sps && info.pps ? frame.data : v.params ? Buffer.concat([v.params, frame.data]) : frame.data;
    v.userId = String(frame.userId);
    if (v.timer || v.busy) return;
    const wait = Math.max(0, v.lastAt + every - Date.now());
    v.timer = setTimeout(() => void this.#decode(kind, v!), wait);
    v.timer.unref();
  }

  async #decode(kind: ThumbnailKind, v: VideoState): Promise<void> {
    v.timer = undefined;
    const keyframe = v.keyframe;
    if (!keyframe || this.#closed) return;
    v.keyframe = undefined;
    if (!this.#ffmpeg) {
      // No ffmpeg: the keyframe as a one-frame MP4, decoded by the browser.
      const mp4 = keyframeMp4(keyframe);
      v.lastAt = Date.now();
      if (!mp4) return;
      this.#o.thumbnails!.set(this.streamId, kind, { data: mp4, contentType: 'video/mp4', userId: v.userId, timestamp: v.lastAt });
      this.#notice(kind, 'video/mp4', v.userId, v.lastAt);
      return;
    }
    v.busy = true;
    v.lastAt = Date.now();
    try {
      const jpeg = await h264ToJpeg(this.#ffmpeg, keyframe);
      const now = Date.now();
      this.#o.thumbnails!.set(this.streamId, kind, { data: jpeg, contentType: 'image/jpeg', userId: v.userId, timestamp: now });
      if (!this.#closed) this.#notice(kind, 'image/jpeg', v.userId, now);
    } catch (err) {
      this.#o.onDecodeError?.(err);
    } finally {
      v.busy = false;
    }
  }

  #url(kind: ThumbnailKind): string {
    return (this.#o.thumbnailUrl ?? defaultUrl)(this.streamId, kind);
  }

  #notice(kind: ThumbnailKind, contentType: 'image/jpeg' | 'image/png' | 'video/mp4', userId: string, timestamp: number): void {
    this.#bus.publish({ type: 'thumbnail', streamId: this.streamId, kind, userId, contentType, url: this.#url(kind), timestamp });
  }

  onTranscript(t: TranscriptFrame): void {
    this.#bus.publish({ type: 'transcript', streamId: this.streamId, source: 'zoom', userId: String(t.userId), userName: t.userName, text: t.text, timestamp: t.timestamp, startTime: t.startTime, endTime: t.endTime });
  }

  onTrackSegment(s: TrackSegment): void {
    this.#bus.publish({ type: 'transcript', streamId: this.streamId, source: s.source, userId: String(s.userId), userName: s.userName, text: s.text, timestamp: s.timestamp, startTime: s.startTime, endTime: s.endTime, ...(s.words?.length ? { words: s.words } : {}) });
  }

  onChat(c: ChatMessage): void {
    const change = this.#chat.apply(c);
    if (change.kind === 'ignored') return;
    const e = change.entry;
    const operation = change.kind === 'add' ? 'new' : change.kind;
    this.#bus.publish({ ...liveChat(this.streamId, e, operation), ...(change.kind === 'delete' ? { text: '' } : {}) });
  }

  onEvent(e: TimelineEvent): void {
    const streamId = this.streamId;
    const userId = e.userId === undefined ? undefined : String(e.userId);
    switch (e.type) {
      case 'participant_join':
      case 'participant_leave': {
        if (userId === undefined) return;
        const userName = e.userName || this.#present.get(userId) || '';
        if (e.type === 'participant_join') this.#present.set(userId, userName);
        else this.#present.delete(userId);
        const sp = this.#speakers.get(userId);
        if (sp && userName) sp.name = userName;
        this.#bus.publish({ type: 'participant', streamId, action: e.type === 'participant_join' ? 'join' : 'leave', userId, userName, timestamp: e.timestamp });
        return;
      }
      case 'active_speaker': {
        if (userId === undefined) return;
        this.#active = { userId, userName: e.userName || this.#present.get(userId) || '' };
        this.#bus.publish({ type: 'active_speaker', streamId, ...this.#active, timestamp: e.timestamp });
        return;
      }
      case 'joined':
      case 'reconnecting':
      case 'closed':
      case 'session_state':
      case 'stream_state':
      case 'paused':
      case 'resumed':
        if (e.type === 'joined' || e.type === 'reconnecting' || e.type === 'closed' || e.type === 'paused') this.#state = e.type;
        else if (e.type === 'resumed') this.#state = 'joined';
        this.#bus.publish({ type: 'state', streamId, state: e.type, data: e.data, timestamp: e.timestamp });
        return;
      default:
        this.#bus.publish({ type: 'event', streamId, event: e.type, userId, userName: e.userName, data: e.data, timestamp: e.timestamp });
    }
  }

  #destroyDecoders(): void {
    this.#shared?.destroy?.();
    this.#shared = undefined;
    for (const sp of this.#speakers.values()) {
      sp.decoder?.destroy?.();
      sp.decoder = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const v of this.#video.values()) clearTimeout(v.timer);
    this.#destroyDecoders();
    this.#state = 'closed';
    this.#bus.setSnapshot(this.streamId, undefined);
    const i = this.#info;
    this.#bus.publish({ type: 'stream', streamId: this.streamId, action: 'ended', meetingUuid: i.meetingUuid, product: i.product, startedAt: i.startedAt, timestamp: Date.now() });
  }
}

/** A ledger entry as a live chat message. */
function liveChat(streamId: string, e: ChatEntry, operation: LiveChatMessage['operation']): LiveChatMessage {
  return {
    type: 'chat',
    streamId,
    operation,
    userId: String(e.userId),
    userName: e.userName,
    text: e.text,
    timestamp: e.timestamp,
    ...(e.messageId ? { messageId: e.messageId } : {}),
    ...(e.parentMessageId ? { parentMessageId: e.parentMessageId } : {}),
    ...(e.chatSession ? { chatSession: e.chatSession } : {}),
    ...(e.receiver ? { receiver: { userId: String(e.receiver.userId), userName: e.receiver.userName } } : {}),
    ...(e.files.length ? { files: e.files } : {}),
    ...(operation === 'reaction' || e.reactions.length ? { reactions: e.reactions.map((r) => ({ emoji: r.emoji, count: r.users.length, users: r.users })) } : {}),
    ...(e.editedAt !== undefined ? { editedAt: e.editedAt } : {}),
  };
}
