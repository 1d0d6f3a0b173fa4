/** Public types of {@link RtmsClient}: options, frames and events. */
import type { OpenRtmsError } from '../errors.js';
import type {
  AudioParams,
  ChatFile,
  ChatOperationName,
  ChatPerson,
  ChatSession,
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
  /** `attribute` of the content as sent (Zoom does not document its values yet). */
  attribute?: unknown;
  /** The translation target the server granted (transcript `target_language`), when one was asked for. */
  targetLanguage?: number;
  receivedAt: number;
}

/**
 * One MEDIA_DATA_CHAT message. `text`, `userId`, `userName` are as before (the sender's, from chat v2's
 * `sender` when present); the rest is chat v2 (July 2026) and absent or defaulted for plain-text chat.
 */
export interface ChatMessage extends Speaker {
  text: string;
  timestamp: number;
  receivedAt: number;
  /**
   * What the message does: `new` (also plain-text chat), `update` (edit of `messageId`), `delete`,
   * `reaction_add`, `reaction_remove`. The client always sets it and the fields below; they are optional
   * so that code which builds a ChatMessage itself (tests, bridges) keeps compiling: absent means `new`.
   */
  operation?: ChatOperationName;
  /** 2 for a chat v2 payload, 1 for plain text. */
  version?: 1 | 2;
  messageId?: string;
  /** Thread parent. */
  parentMessageId?: string;
  /** Audience: everyone, one person (`receiver`), a chat group, hosts and panelists… */
  chatSession?: ChatSession;
  sender?: ChatPerson;
  receiver?: ChatPerson;
  files?: ChatFile[];
  deleteFileIds?: string[];
  /** The emoji of a reaction operation. */
  emoji?: string;
}

/** STREAM_STATE PAUSED/RESUMED or SESSION_STATE PAUSED/RESUMED, emitted once per transition. */
export interface PauseEvent {
  /** Which update said it first. */
  source: 'stream' | 'session';
  timestamp: number;
}

/** VIDEO_SUBSCRIPTION_RESP, typed. */
export interface VideoSubscriptionEvent {
  userId?: number | string;
  statusCode: number;
  /** false when the participant's video is now unsubscribed. */
  subscribed: boolean;
  reason?: string;
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
  /** The app was paused (by a user or the REST API): the connection stays, media stops until `resumed`. */
  paused: [PauseEvent];
  resumed: [PauseEvent];
  /** EVENT_UPDATE FIRST_PACKET_TIMESTAMP: the stream's time origin (ms since epoch). */
  firstPacket: [{ timestamp: number }];
  /** EVENT_UPDATE MEDIA_CONNECTION_INTERRUPTED (the reconnection that follows is the client's business, not this event's). */
  mediaInterrupted: [{ timestamp: number }];
  videoSubscription: [VideoSubscriptionEvent];
  reconnecting: [ReconnectingEvent];
  stateChange: [{ from: ClientState; to: ClientState }];
  /** Non-fatal problems (malformed frames...). Emitted only when someone listens. */
  error: [OpenRtmsError];
  closed: [ClosedEvent];
}
