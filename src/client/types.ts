/** Public types of {@link RtmsClient}: options, frames and events. */
import type { OpenRtmsError } from '../errors.js';
import type {
  AudioParams,
  EventUpdate,
  MediaKind,
  MediaParams,
  PayloadIds,
  Product,
  TranscriptParams,
  VideoParams,
} from '../protocol/index.js';

/**
 * Reconnection policy. Defaults: 0.5 s doubling to 30 s, ±30 % jitter, 20 attempts. The curve is Zoom's
 * recommended one (3 s doubling to 30 s) started earlier: the server already knows the connection
 * dropped and waits for it (~60 s for signaling, ~30 s for media), so an early retry loses less. Status 8 (duplicate signal request) follows Zoom's own
 * 1.5 s doubling schedule instead.
 */
export interface ReconnectOptions {
  enabled?: boolean;
  initialDelayMs?: number;
  maxDelayMs?: number;
  multiplier?: number;
  /** Fraction of the delay added or removed at random (0..1). */
  jitter?: number;
  /** Consecutive failed attempts before giving up with RTMS_RECONNECT_EXHAUSTED. */
  maxAttempts?: number;
}

export interface RtmsClientOptions {
  /** App client id (Video SDK: SDK key). Defaults to ZM_RTMS_CLIENT / ZOOM_CLIENT_ID. */
  clientId?: string;
  /** App client secret (Video SDK: SDK secret). Defaults to ZM_RTMS_SECRET / ZOOM_CLIENT_SECRET. */
  clientSecret?: string;
  /** Media kinds to receive. Default: all five. */
  media?: MediaKind[];
  audio?: AudioParams;
  video?: VideoParams;
  deskshare?: VideoParams;
  transcript?: TranscriptParams;
  /** One media socket for everything (`all`, default) or one per media kind (`per-kind`). */
  socketMode?: 'all' | 'per-kind';
  /** Event types to subscribe to with EVENT_SUBSCRIPTION (sent before CLIENT_READY_ACK). */
  subscribeEvents?: number[];
  /** Event types to unsubscribe from with the same EVENT_SUBSCRIPTION message. */
  unsubscribeEvents?: number[];
  /** Time allowed for both handshakes, per attempt. Default 15 s. */
  joinTimeoutMs?: number;
  /** A socket silent for longer than this is treated as dead. Default: Zoom's 60 s / 65 s. */
  keepAliveToleranceMs?: { signaling?: number; media?: number };
  reconnect?: ReconnectOptions;
  /** How long `leave()` waits for STREAM_CLOSE_RESP. Default 5 s. */
  closeTimeoutMs?: number;
  /** How long request/response calls (video subscription, state requests) wait. Default 5 s. */
  requestTimeoutMs?: number;
  /** Largest frame accepted, in bytes. Default 16 MiB. */
  maxFrameBytes?: number;
  /** Extra options for the `ws` sockets (e.g. TLS settings). */
  wsOptions?: import('ws').ClientOptions;
  /** Receives diagnostics; defaults to silence. */
  logger?: ClientLogger;
}

export interface ClientLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** What `join()` accepts: a webhook payload of any product, or an already normalised one. */
export type JoinInput =
  | (PayloadIds & { rtms_stream_id: string; server_urls: string; operator_id?: string })
  | { product?: Product; meetingUuid: string; rtmsStreamId: string; serverUrls: string };

export type ClientState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closing' | 'closed';

/** Who spoke a frame. `userId` 0 is the mixed track. */
export interface Speaker {
  userId: number | string;
  userName: string;
}

export interface AudioFrame extends Speaker {
  /** Encoded audio as sent (codec per the granted audio params). */
  data: Buffer;
  /** Zoom's capture timestamp (ms since epoch). */
  timestamp: number;
  /** When this process received the frame (ms since epoch). */
  receivedAt: number;
}

export interface VideoFrame extends Speaker {
  /** H.264 access unit (Annex B), or a JPG/PNG image. */
  data: Buffer;
  timestamp: number;
  receivedAt: number;
  /** `video` (camera) or `deskshare` (screen share). */
  kind: 'video' | 'deskshare';
}

export interface TranscriptFrame extends Speaker {
  text: string;
  timestamp: number;
  startTime?: number;
  endTime?: number;
  language?: number | string;
  receivedAt: number;
}

export interface ChatMessage extends Speaker {
  text: string;
  timestamp: number;
  receivedAt: number;
}

export interface ParticipantEvent {
  action: 'join' | 'leave';
  participants: Speaker[];
  timestamp: number;
}

export interface ActiveSpeakerEvent extends Speaker {
  timestamp: number;
}

/** Why the client closed for good. */
export type CloseReason =
  | 'left' // leave() completed
  | 'closed' // close() called
  | 'stream-terminated' // Zoom ended the stream (see stopReason)
  | 'kicked' // another connection took the stream over
  | 'signature-rejected'
  | 'handshake-failed'
  | 'join-timeout'
  | 'reconnect-exhausted';

export interface ClosedEvent {
  reason: CloseReason;
  /** RTMS_STOP_REASON when Zoom gave one. */
  stopReason?: number;
  error?: OpenRtmsError;
}

/**
 * What a reconnection re-opens: `all` (signaling and media: the signaling connection dropped, the
 * server failed over, or Zoom sent `*.rtms_interrupted`) or `media` only (a media connection
 * dropped while signaling stayed up, or Zoom sent MEDIA_CONNECTION_INTERRUPTED).
 */
export type ReconnectScope = 'all' | 'media';

export interface JoinedEvent {
  /** Media parameters the server granted (per kind). */
  mediaParams: MediaParams;
  /** True when this join restored a dropped connection. */
  reconnected: boolean;
  attempt: number;
  /** What was re-opened, when `reconnected`. */
  scope: ReconnectScope;
}

export interface ReconnectingEvent {
  attempt: number;
  delayMs: number;
  error: OpenRtmsError;
  scope: ReconnectScope;
}

export interface ClientStats {
  frames: Record<'audio' | 'video' | 'deskshare' | 'transcript' | 'chat', number>;
  bytes: number;
  /** Full reconnections (signaling and media). */
  reconnects: number;
  /** Media-only reconnections (signaling stayed up). */
  mediaReconnects: number;
  keepAlivesAnswered: number;
  protocolErrors: number;
}

/** Typed event map of RtmsClient. */
export interface RtmsClientEvents {
  joined: [JoinedEvent];
  audio: [AudioFrame];
  video: [VideoFrame];
  deskshare: [VideoFrame];
  transcript: [TranscriptFrame];
  chat: [ChatMessage];
  participant: [ParticipantEvent];
  activeSpeaker: [ActiveSpeakerEvent];
  /** Every EVENT_UPDATE as received (sharing, video on/off, Contact Center events...). */
  event: [EventUpdate['event']];
  sessionState: [{ state: number; stopReason?: number; timestamp?: number }];
  streamState: [{ state: number; stopReason?: number; timestamp?: number }];
  reconnecting: [ReconnectingEvent];
  stateChange: [{ from: ClientState; to: ClientState }];
  /** Non-fatal problems (malformed frames...). Emitted only when someone listens. */
  error: [OpenRtmsError];
  closed: [ClosedEvent];
}
