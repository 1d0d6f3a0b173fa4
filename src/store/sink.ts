/**
 * StoreSink: the pipeline sink that persists one stream — transcript, chat, timeline events,
 * participants, state and frame counts — through a {@link Store}.
 *
 * Frame handlers only append to in-memory queues (no I/O, no awaiting). A timer flushes every
 * `flushIntervalMs`, or as soon as `maxBatch` items wait, writing everything queued in one
 * transaction (`store.write`). When only counters changed (frame and byte counts, a participant's
 * last-seen time: what media alone changes) the flush waits for `countersIntervalMs`, so a stream
 * of audio costs the database a transaction every 2 s rather than four a second. While the store
 * fails, items stay queued (at most `maxQueue`) and flushes are retried with backoff; items that do
 * not fit are dropped and counted, and the logger hears about it once per outage. `close()` flushes
 * what is left (waiting at most `closeTimeoutMs` for a failing store) and never rejects. If the store is still failing then, the
 * items stay queued and are retried in the background for up to `abandonAfterMs`, so a stream that
 * ends during a database outage loses nothing when the database comes back in time.
 */
import { randomUUID } from 'node:crypto';
import type { MediaParams } from '../protocol/index.js';
import type { AudioFrame, ChatMessage, StreamInfo, StreamSink, TimelineEvent, TrackSegment, TranscriptFrame, VideoFrame } from '../pipeline/types.js';
import type { NewChatMessage, NewTranscriptSegment, ParticipantSeen, Store, StreamState, StreamStop, WriteBatch } from './types.js';
import { everyShared } from '../util/shared-interval.js';
import { chatAuditFromEnv } from '../pipeline/chat-ledger.js';

export interface StoreSinkLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface StoreSinkOptions {
  /** Flush period. Default 250 ms. */
  flushIntervalMs?: number;
  /**
   * Longest time counters alone (frame/byte counts, participants' last-seen) wait to be written when
   * nothing else is queued. Default 2000 ms; never shorter than `flushIntervalMs`.
   */
  countersIntervalMs?: number;
  /** Queued items (transcript + chat + events) that trigger a flush right away. Default 500. */
  maxBatch?: number;
  /** Most items held in memory, including those being written; more are dropped. Default 10 000. */
  maxQueue?: number;
  /** Longest wait between retries while the store fails. Default 5000 ms. */
  retryMaxDelayMs?: number;
  /** How long close() waits for a failing store before it resolves. Default 5000 ms. */
  closeTimeoutMs?: number;
  /**
   * How long after close() a still-failing store keeps being retried in the background before what is
   * left is dropped (bounded in memory by `maxQueue`). Default 10 minutes; at most `closeTimeoutMs`
   * disables background retries.
   */
  abandonAfterMs?: number;
  /** Keep an audit row of every chat edit and delete (store `chatAudit()`). Default: env OPENRTMS_CHAT_AUDIT=1, else off. */
  chatAudit?: boolean;
  /** Mark the stream stopped on close() if no `closed` event did. Default true. */
  markStoppedOnClose?: boolean;
  logger?: StoreSinkLogger;
}

/** Counters of a StoreSink (all cumulative except `queued` and `retrying`). */
export interface StoreSinkStats {
  /** Items waiting or being written. */
  queued: number;
  /** Items written (transcript + chat + events). */
  written: number;
  /** Items lost: queue full while the store failed, arrived after close, or left at close. */
  dropped: number;
  droppedByKind: { transcript: number; chat: number; events: number };
  flushes: number;
  failedFlushes: number;
  /** True while the last flush failed and a retry is pending. */
  retrying: boolean;
  lastError?: string;
  /** Frames seen per kind (media is counted, not stored). */
  frames: { audio: number; video: number; share: number; transcript: number; chat: number };
}

type Kind = 'transcript' | 'chat' | 'events';

interface Seen {
  userId: number | string;
  userName: string;
  firstSeen: number;
  lastSeen: number;
  dirty: boolean;
}

/** Stream stats keys this sink adds to (`stats` of the stream row). */
const DELTA_KEYS = ['frames_audio', 'frames_video', 'frames_share', 'frames_transcript', 'frames_chat', 'bytes_audio', 'bytes_video', 'bytes_share', 'store_dropped'] as const;
type DeltaKey = (typeof DELTA_KEYS)[number];

export class StoreSink implements StreamSink {
  readonly #store: Store;
  readonly #stream: WriteBatch['stream'];
  readonly #flushIntervalMs: number;
  readonly #countersIntervalMs: number;
  readonly #maxBatch: number;
  readonly #maxQueue: number;
  readonly #retryMaxDelayMs: number;
  readonly #closeTimeoutMs: number;
  readonly #abandonAfterMs: number;
  readonly #markStoppedOnClose: boolean;
  readonly #chatAudit: boolean;
  readonly #logger?: StoreSinkLogger;

  #transcript: NewTranscriptSegment[] = [];
  #chat: NewChatMessage[] = [];
  #events: TimelineEvent[] = [];
  /** Items of the batch being written, or of the batch whose write failed (kept as it was: see #unacked). */
  #inflightItems = 0;
  /**
   * A batch whose write failed. It is retried as it is, with the same batchId, before anything newer:
   * if its commit did happen (the connection broke before the answer), the store recognises it and
   * nothing is written twice.
   */
  #unacked: WriteBatch | undefined;
  readonly #seen = new Map<number | string, Seen>();
  #delta: Record<DeltaKey, number> = StoreSink.#zeroDelta();
  #state: StreamState | undefined = 'active';
  #stop: StreamStop | undefined;
  #stopped = false;

  /** Stops this sink's ticks (on the clock every sink of that interval shares). */
  #stopTicking: (() => void) | undefined;
  #immediate = false;
  #flushing: Promise<boolean> | undefined;
  #followUp = false;
  #failures = 0;
  #retryAt = 0;
  #closing: Promise<void> | undefined;
  #closed = false;

  #written = 0;
  #lastFlushAt = 0;
  #flushes = 0;
  #failedFlushes = 0;
  #lastError: string | undefined;
  #lastErrorCode: string | undefined;
  #background: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #holdOpen = false;
  #dropsThisOutage = 0;
  readonly #dropped = { transcript: 0, chat: 0, events: 0 };
  readonly #frames = { audio: 0, video: 0, share: 0, transcript: 0, chat: 0 };

  constructor(store: Store, info: StreamInfo, options: StoreSinkOptions = {}) {
    this.#store = store;
    this.#stream = { rtmsStreamId: info.rtmsStreamId, meetingUuid: info.meetingUuid, product: info.product, operatorId: info.operatorId, startedAt: info.startedAt };
    this.#flushIntervalMs = Math.max(1, options.flushIntervalMs ?? 250);
    this.#countersIntervalMs = Math.max(this.#flushIntervalMs, options.countersIntervalMs ?? 2000);
    this.#maxBatch = Math.max(1, options.maxBatch ?? 500);
    this.#maxQueue = Math.max(1, options.maxQueue ?? 10_000);
    this.#retryMaxDelayMs = Math.max(this.#flushIntervalMs, options.retryMaxDelayMs ?? 5000);
    this.#closeTimeoutMs = Math.max(0, options.closeTimeoutMs ?? 5000);
    this.#abandonAfterMs = Math.max(0, options.abandonAfterMs ?? 10 * 60_000);
    this.#markStoppedOnClose = options.markStoppedOnClose ?? true;
    this.#chatAudit = options.chatAudit ?? chatAuditFromEnv();
    this.#logger = options.logger;
    // Every sink ticks on one shared clock: their writes reach the store in the same turn and a
    // store that groups commits (SQLite) takes them as one transaction instead of one per stream.
    this.#stopTicking = everyShared(this.#flushIntervalMs, () => this.#tick());
  }

  static #zeroDelta(): Record<DeltaKey, number> {
    return { frames_audio: 0, frames_video: 0, frames_share: 0, frames_transcript: 0, frames_chat: 0, bytes_audio: 0, bytes_video: 0, bytes_share: 0, store_dropped: 0 };
  }

  /** A snapshot of the sink's counters. */
  get stats(): StoreSinkStats {
    const dropped = this.#dropped.transcript + this.#dropped.chat + this.#dropped.events;
    return {
      queued: this.#queuedItems() + this.#inflightItems,
      written: this.#written,
      dropped,
      droppedByKind: { ...this.#dropped },
      flushes: this.#flushes,
      failedFlushes: this.#failedFlushes,
      retrying: this.#failures > 0,
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
      frames: { ...this.#frames },
    };
  }

  // ---- StreamSink (hot path: append and return) ---------------------------------------------

  onJoined(_params: MediaParams, _reconnected: boolean): void {
    this.#setState('active');
  }

  onAudio(frame: AudioFrame): void {
    this.#frames.audio++;
    this.#delta.frames_audio++;
    this.#delta.bytes_audio += frame.data.length;
    if (frame.userId !== 0) this.#see(frame.userId, frame.userName, frame.timestamp || frame.receivedAt);
  }

  onVideo(frame: VideoFrame): void {
    this.#frames.video++;
    this.#delta.frames_video++;
    this.#delta.bytes_video += frame.data.length;
    if (frame.userId !== 0) this.#see(frame.userId, frame.userName, frame.timestamp || frame.receivedAt);
  }

  onShare(frame: VideoFrame): void {
    this.#frames.share++;
    this.#delta.frames_share++;
    this.#delta.bytes_share += frame.data.length;
  }

  onTranscript(frame: TranscriptFrame): void {
    this.#frames.transcript++;
    this.#delta.frames_transcript++;
    if (!this.#admit('transcript')) return;
    this.#transcript.push({
      userId: frame.userId,
      userName: frame.userName,
      text: frame.text,
      timestamp: frame.timestamp,
      startTime: frame.startTime,
      endTime: frame.endTime,
      language: frame.language,
      ...(frame.attribute !== undefined ? { attribute: frame.attribute } : {}),
      ...(frame.targetLanguage !== undefined ? { targetLanguage: frame.targetLanguage } : {}),
    });
    this.#see(frame.userId, frame.userName, frame.timestamp);
    this.#maybeFlushSoon();
  }

  /** A speech-to-text segment: stored as a transcript row of its track (`source`), with word timings. */
  onTrackSegment(s: TrackSegment): void {
    if (!this.#admit('transcript')) return;
    this.#transcript.push({
      source: s.source,
      userId: s.userId,
      userName: s.userName,
      text: s.text,
      timestamp: s.timestamp,
      startTime: s.startTime,
      endTime: s.endTime,
      ...(s.language !== undefined ? { language: s.language } : {}),
      ...(s.words?.length ? { words: s.words } : {}),
    });
    this.#maybeFlushSoon();
  }

  onChat(message: ChatMessage): void {
    this.#frames.chat++;
    this.#delta.frames_chat++;
    if (!this.#admit('chat')) return;
    const m = message;
    const op = m.operation ?? 'new';
    // Operations are queued in order with new messages: the store applies them as they came (edits, deletes, reactions).
    this.#chat.push({
      userId: m.userId,
      userName: m.userName,
      text: m.text,
      timestamp: m.timestamp,
      ...(op !== 'new' ? { operation: op } : {}),
      ...(m.messageId ? { messageId: m.messageId } : {}),
      ...(m.parentMessageId ? { parentMessageId: m.parentMessageId } : {}),
      ...(m.chatSession ? { chatSession: m.chatSession } : {}),
      ...(m.receiver ? { receiver: m.receiver } : {}),
      ...(m.files?.length ? { files: m.files } : {}),
      ...(m.deleteFileIds?.length ? { deleteFileIds: m.deleteFileIds } : {}),
      ...(m.emoji ? { emoji: m.emoji } : {}),
      ...(this.#chatAudit && (op === 'update' || op === 'delete') ? { audit: true } : {}),
    });
    this.#see(message.userId, message.userName, message.timestamp);
    this.#maybeFlushSoon();
  }

  onEvent(event: TimelineEvent): void {
    switch (event.type) {
      case 'participant_join':
      case 'participant_leave':
      case 'active_speaker':
      case 'video_on':
      case 'video_off':
      case 'sharing_start':
      case 'sharing_stop':
        if (event.userId !== undefined && event.userId !== null && event.userId !== 0) this.#see(event.userId, event.userName ?? '', event.timestamp);
        break;
      case 'joined':
        this.#setState('active');
        break;
      case 'reconnecting':
        this.#setState('reconnecting');
        break;
      case 'paused':
        this.#setState('paused');
        break;
      case 'resumed':
        this.#setState('active');
        break;
      case 'closed': {
        const d = event.data ?? {};
        this.#setStopped({
          stoppedAt: event.timestamp,
          ...(typeof d.stop_reason === 'number' ? { stopReason: d.stop_reason } : {}),
          ...(typeof d.reason === 'string' ? { closeReason: d.reason } : {}),
        });
        break;
      }
      default:
        break;
    }
    if (!this.#admit('events')) return;
    this.#events.push(event);
    this.#maybeFlushSoon();
  }

  /** Flushes everything queued (bounded by `closeTimeoutMs` if the store fails). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Writes what is queued now; resolves true when it was written (used by tests and shutdown). */
  flush(): Promise<boolean> {
    return this.#flush();
  }

  /**
   * Resolves when close() is done and nothing is retried in the background any more (everything
   * written, or dropped after `abandonAfterMs`).
   */
  async drained(): Promise<void> {
    await this.close();
    // Someone waits for the background retries: they may keep the process alive now.
    this.#holdOpen = true;
    this.#retryTimer?.ref();
    await this.#background;
  }

  // ---- internals ----------------------------------------------------------------------------

  #queuedItems(): number {
    return this.#transcript.length + this.#chat.length + this.#events.length;
  }

  #admit(kind: Kind): boolean {
    if (!this.#closed && this.#queuedItems() + this.#inflightItems < this.#maxQueue) return true;
    this.#dropped[kind]++;
    this.#delta.store_dropped++;
    if (this.#dropsThisOutage++ === 0) {
      this.#logger?.warn(
        { rtmsStreamId: this.#stream.rtmsStreamId, kind, maxQueue: this.#maxQueue, closed: this.#closed, lastError: this.#lastError },
        this.#closed ? 'store sink: item after close dropped' : 'store sink: queue full, dropping items until the store catches up',
      );
    }
    return false;
  }

  #see(userId: number | string, userName: string, at: number): void {
    const s = this.#seen.get(userId);
    if (s === undefined) {
      this.#seen.set(userId, { userId, userName: userName ?? '', firstSeen: at, lastSeen: at, dirty: true });
      return;
    }
    if (at > s.lastSeen) {
      s.lastSeen = at;
      s.dirty = true;
    } else if (at < s.firstSeen) {
      s.firstSeen = at;
      s.dirty = true;
    }
    if (userName && userName !== s.userName) {
      s.userName = userName;
      s.dirty = true;
    }
  }

  #setState(state: Exclude<StreamState, 'stopped'>): void {
    if (!this.#stopped) this.#state = state;
  }

  #setStopped(stop: StreamStop): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#state = 'stopped';
    this.#stop = stop;
  }

  #maybeFlushSoon(): void {
    if (this.#immediate || this.#queuedItems() < this.#maxBatch || this.#failures > 0) return;
    this.#immediate = true;
    setImmediate(() => {
      this.#immediate = false;
      if (!this.#flushing) void this.#flush();
      else if (!this.#followUp) {
        // Right after the write in flight, not at the next tick: a killed process loses less.
        this.#followUp = true;
        const next = () => {
          this.#followUp = false;
          if (!this.#flushing && this.#failures === 0) void this.#flush();
        };
        void this.#flushing.then(next, next);
      }
    });
  }

  #tick(): void {
    if (this.#flushing) return;
    const now = Date.now();
    if (this.#failures > 0 && now < this.#retryAt) return;
    if (this.#queuedItems() > 0 || this.#state !== undefined || (now - this.#lastFlushAt >= this.#countersIntervalMs && this.#hasWork())) void this.#flush();
  }

  #hasWork(): boolean {
    if (this.#unacked || this.#queuedItems() > 0 || this.#state !== undefined) return true;
    for (const k of DELTA_KEYS) if (this.#delta[k] !== 0) return true;
    for (const s of this.#seen.values()) if (s.dirty) return true;
    return false;
  }

  #flush(): Promise<boolean> {
    if (this.#flushing) return this.#flushing.then(() => this.#flush());
    this.#flushing = this.#flushOnce().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #flushOnce(): Promise<boolean> {
    if (!this.#hasWork()) return true;
    this.#lastFlushAt = Date.now();
    if (this.#unacked) {
      if (!(await this.#write(this.#unacked))) return false;
      if (!this.#hasWork()) return true;
    }
    const transcript = this.#transcript;
    const chat = this.#chat;
    const events = this.#events;
    const delta = this.#delta;
    const state = this.#state;
    const stop = this.#stop;
    const participants: ParticipantSeen[] = [];
    for (const s of this.#seen.values()) {
      if (!s.dirty) continue;
      s.dirty = false;
      participants.push({ userId: s.userId, userName: s.userName, firstSeen: s.firstSeen, lastSeen: s.lastSeen });
    }
    this.#transcript = [];
    this.#chat = [];
    this.#events = [];
    this.#delta = StoreSink.#zeroDelta();
    this.#state = undefined;
    this.#inflightItems = transcript.length + chat.length + events.length;

    const statsDelta: Record<string, number> = {};
    for (const k of DELTA_KEYS) if (delta[k] !== 0) statsDelta[k] = delta[k];
    const batch: WriteBatch = {
      stream: this.#stream,
      batchId: randomUUID(),
      ...(transcript.length ? { transcript } : {}),
      ...(chat.length ? { chat } : {}),
      ...(events.length ? { events } : {}),
      ...(participants.length ? { participants } : {}),
      ...(Object.keys(statsDelta).length ? { statsDelta } : {}),
      ...(state !== undefined ? { state } : {}),
      ...(state === 'stopped' && stop ? { stop } : {}),
    };
    return this.#write(batch);
  }

  /** Writes one batch; when that fails it is kept, unchanged, as #unacked (nothing is lost yet). */
  async #write(batch: WriteBatch): Promise<boolean> {
    const items = (batch.transcript?.length ?? 0) + (batch.chat?.length ?? 0) + (batch.events?.length ?? 0);
    try {
      await this.#store.write(batch);
    } catch (err) {
      this.#unacked = batch;
      this.#failedFlushes++;
      this.#lastError = (err as Error)?.message ?? String(err);
      this.#lastErrorCode = (err as { code?: string })?.code;
      if (this.#failures++ === 0) {
        this.#logger?.warn({ rtmsStreamId: this.#stream.rtmsStreamId, queued: this.#queuedItems() + items, err: this.#lastError }, 'store sink: write failed, keeping items queued and retrying');
      }
      const delay = Math.min(this.#retryMaxDelayMs, this.#flushIntervalMs * 2 ** Math.min(this.#failures, 16));
      this.#retryAt = Date.now() + delay;
      return false;
    }
    this.#unacked = undefined;
    this.#inflightItems = 0;
    this.#flushes++;
    this.#written += items;
    if (this.#failures > 0) {
      this.#logger?.info(
        { rtmsStreamId: this.#stream.rtmsStreamId, failedFlushes: this.#failedFlushes, droppedDuringOutage: this.#dropsThisOutage },
        'store sink: store available again',
      );
    }
    this.#failures = 0;
    this.#retryAt = 0;
    this.#dropsThisOutage = 0;
    return true;
  }

  async #close(): Promise<void> {
    this.#stopTicking?.();
    this.#stopTicking = undefined;
    if (this.#markStoppedOnClose) this.#setStopped({ stoppedAt: Date.now(), closeReason: 'closed' });
    this.#closed = true;
    const closedAt = Date.now();
    if (await this.#retryUntil(closedAt + this.#closeTimeoutMs, false)) return;
    if (this.#abandonAfterMs > this.#closeTimeoutMs && this.#lastErrorCode !== 'STORE_CLOSED') {
      // The stream is over but the store is still failing: keep what is queued and retry in the
      // background instead of dropping it; close() does not wait for that.
      this.#logger?.warn(
        { rtmsStreamId: this.#stream.rtmsStreamId, queued: this.#queuedItems(), retryForMs: this.#abandonAfterMs, lastError: this.#lastError },
        'store sink: stream closed while the store fails; items kept and retried in the background',
      );
      this.#background = this.#retryUntil(closedAt + this.#abandonAfterMs, true).then((ok) => {
        if (!ok) this.#dropLeft();
      });
      return;
    }
    this.#dropLeft();
  }

  /** Flushes until it succeeds, the store is closed, or `deadline`; true when everything was written. */
  async #retryUntil(deadline: number, background: boolean): Promise<boolean> {
    for (;;) {
      if (await this.#flush()) return true;
      if (this.#lastErrorCode === 'STORE_CLOSED') return false;
      const now = Date.now();
      if (now >= deadline) return false;
      await new Promise((r) => {
        this.#retryTimer = setTimeout(r, Math.max(1, Math.min(this.#retryAt - now, deadline - now)));
        // A background retry does not keep the process alive by itself (unless drained() is awaited).
        if (background && !this.#holdOpen) this.#retryTimer.unref();
      });
    }
  }

  #dropLeft(): void {
    const u = this.#unacked;
    this.#unacked = undefined;
    this.#inflightItems = 0;
    const left = {
      transcript: this.#transcript.length + (u?.transcript?.length ?? 0),
      chat: this.#chat.length + (u?.chat?.length ?? 0),
      events: this.#events.length + (u?.events?.length ?? 0),
    };
    if (left.transcript + left.chat + left.events > 0 || this.#failures > 0) {
      this.#dropped.transcript += left.transcript;
      this.#dropped.chat += left.chat;
      this.#dropped.events += left.events;
      this.#transcript = [];
      this.#chat = [];
      this.#events = [];
      this.#logger?.warn({ rtmsStreamId: this.#stream.rtmsStreamId, dropped: left, lastError: this.#lastError }, 'store sink: closed with a failing store; unwritten items dropped');
    }
  }
}
