/**
 * RTMS wire constants: the single source of truth for every number on the wire.
 * Both the client and the emulator import these; neither re-declares a value.
 * Names follow Zoom's documentation (developers.zoom.us/docs/rtms, "Data types").
 */

/** `msg_type` of every RTMS message. Always sent as an integer. */
export const MsgType = {
  SIGNALING_HAND_SHAKE_REQ: 1,
  SIGNALING_HAND_SHAKE_RESP: 2,
  DATA_HAND_SHAKE_REQ: 3,
  DATA_HAND_SHAKE_RESP: 4,
  EVENT_SUBSCRIPTION: 5,
  EVENT_UPDATE: 6,
  CLIENT_READY_ACK: 7,
  STREAM_STATE_UPDATE: 8,
  SESSION_STATE_UPDATE: 9,
  SESSION_STATE_REQ: 10,
  SESSION_STATE_RESP: 11,
  KEEP_ALIVE_REQ: 12,
  KEEP_ALIVE_RESP: 13,
  MEDIA_DATA_AUDIO: 14,
  MEDIA_DATA_VIDEO: 15,
  MEDIA_DATA_SHARE: 16,
  MEDIA_DATA_TRANSCRIPT: 17,
  MEDIA_DATA_CHAT: 18,
  STREAM_STATE_REQ: 19,
  STREAM_STATE_RESP: 20,
  STREAM_CLOSE_REQ: 21,
  STREAM_CLOSE_RESP: 22,
  META_DATA_AUDIO: 23,
  META_DATA_VIDEO: 24,
  META_DATA_SHARE: 25,
  META_DATA_TRANSCRIPT: 26,
  META_DATA_CHAT: 27,
  VIDEO_SUBSCRIPTION_REQ: 28,
  VIDEO_SUBSCRIPTION_RESP: 29,
} as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];

/** `media_type` bitmask of DATA_HAND_SHAKE_REQ. */
export const MediaType = {
  AUDIO: 1,
  VIDEO: 2,
  DESKSHARE: 4,
  TRANSCRIPT: 8,
  CHAT: 16,
  ALL: 32,
} as const;
export type MediaType = (typeof MediaType)[keyof typeof MediaType];

/** MEDIA_CONTENT_TYPE. */
export const ContentType = {
  UNDEFINED: 0,
  RTP: 1,
  RAW_AUDIO: 2,
  RAW_VIDEO: 3,
  FILE_STREAM: 4,
  TEXT: 5,
} as const;
export type ContentType = (typeof ContentType)[keyof typeof ContentType];

/** MEDIA_PAYLOAD_TYPE: the codec field of audio/video parameters. */
export const Codec = {
  UNDEFINED: 0,
  L16: 1,
  G711: 2,
  G722: 3,
  OPUS: 4,
  JPG: 5,
  PNG: 6,
  H264: 7,
} as const;
export type Codec = (typeof Codec)[keyof typeof Codec];

/** AUDIO_SAMPLE_RATE. */
export const SampleRate = {
  SR_8K: 0,
  SR_16K: 1,
  SR_32K: 2,
  SR_48K: 3,
} as const;
export type SampleRate = (typeof SampleRate)[keyof typeof SampleRate];

/** Hertz of each {@link SampleRate} value. */
export const SAMPLE_RATE_HZ: Readonly<Record<SampleRate, number>> = { 0: 8000, 1: 16000, 2: 32000, 3: 48000 };

/** AUDIO_CHANNEL. */
export const Channel = { MONO: 1, STEREO: 2 } as const;
export type Channel = (typeof Channel)[keyof typeof Channel];

/** MEDIA_RESOLUTION. */
export const Resolution = { SD: 1, HD: 2, FHD: 3, QHD: 4 } as const;
export type Resolution = (typeof Resolution)[keyof typeof Resolution];

/** Pixel size of each {@link Resolution}. */
export const RESOLUTION_SIZE: Readonly<Record<Resolution, { width: number; height: number }>> = {
  1: { width: 640, height: 360 },
  2: { width: 1280, height: 720 },
  3: { width: 1920, height: 1080 },
  4: { width: 2560, height: 1440 },
};

/** MEDIA_DATA_OPTION. */
export const DataOption = {
  UNDEFINED: 0,
  AUDIO_MIXED_STREAM: 1,
  AUDIO_MULTI_STREAMS: 2,
  VIDEO_SINGLE_ACTIVE_STREAM: 3,
  VIDEO_SINGLE_INDIVIDUAL_STREAM: 4,
  VIDEO_MIXED_GALLERY_VIEW: 5,
  VIDEO_MIXED_SPEAKER_VIEW: 6,
} as const;
export type DataOption = (typeof DataOption)[keyof typeof DataOption];

/** SESSION_STATE. */
export const SessionState = {
  INACTIVE: 0,
  INITIALIZE: 1,
  STARTED: 2,
  PAUSED: 3,
  RESUMED: 4,
  STOPPED: 5,
} as const;
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

/** STREAM_STATE. */
export const StreamState = {
  INACTIVE: 0,
  ACTIVE: 1,
  INTERRUPTED: 2,
  TERMINATING: 3,
  TERMINATED: 4,
  PAUSED: 5,
  RESUMED: 6,
} as const;
export type StreamState = (typeof StreamState)[keyof typeof StreamState];

/** EVENT_TYPE for meetings, webinars and Video SDK sessions. */
export const EventType = {
  UNDEFINED: 0,
  FIRST_PACKET_TIMESTAMP: 1,
  ACTIVE_SPEAKER_CHANGE: 2,
  PARTICIPANT_JOIN: 3,
  PARTICIPANT_LEAVE: 4,
  SHARING_START: 5,
  SHARING_STOP: 6,
  MEDIA_CONNECTION_INTERRUPTED: 7,
  PARTICIPANT_VIDEO_ON: 8,
  PARTICIPANT_VIDEO_OFF: 9,
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** EVENT_TYPE values Contact Center voice uses (they reuse 8 and up with other meanings). */
export const ContactCenterEventType = {
  CONSUMER_ANSWERED: 8,
  CONSUMER_END: 9,
  USER_ANSWERED: 10,
  USER_END: 11,
  USER_HOLD: 12,
  USER_UNHOLD: 13,
  MONITOR_STARTED: 14,
  MONITOR_TRANSITIONED: 15,
  MONITOR_ENDED: 16,
  TAKEOVER_STARTED: 17,
  TRANSFER_INITIATED: 18,
  TRANSFER_ACCEPTED: 19,
  TRANSFER_REJECTED: 20,
  TRANSFER_COMPLETED: 21,
  TRANSFER_CANCELED: 22,
  TRANSFER_TIMEOUT: 23,
  CONFERENCE_CANCELED: 24,
  CONFERENCE_PARTICIPANT_JOINED: 25,
  CONFERENCE_PARTICIPANT_LEFT: 26,
  CONFERENCE_PARTICIPANT_REJECTED: 27,
  CONFERENCE_PARTICIPANT_TIMEOUT: 28,
} as const;
export type ContactCenterEventType = (typeof ContactCenterEventType)[keyof typeof ContactCenterEventType];

/** RTMS_STOP_REASON. */
export const StopReason = {
  UNDEFINED: 0,
  STOP_BC_HOST_TRIGGERED: 1,
  STOP_BC_USER_TRIGGERED: 2,
  STOP_BC_USER_LEFT: 3,
  STOP_BC_USER_EJECTED: 4,
  STOP_BC_HOST_DISABLED_APP: 5,
  STOP_BC_MEETING_ENDED: 6,
  STOP_BC_STREAM_CANCELED: 7,
  STOP_BC_STREAM_REVOKED: 8,
  STOP_BC_ALL_APPS_DISABLED: 9,
  STOP_BC_INTERNAL_EXCEPTION: 10,
  STOP_BC_CONNECTION_TIMEOUT: 11,
  STOP_BC_INSTANCE_CONNECTION_INTERRUPTED: 12,
  STOP_BC_SIGNAL_CONNECTION_INTERRUPTED: 13,
  STOP_BC_DATA_CONNECTION_INTERRUPTED: 14,
  STOP_BC_SIGNAL_CONNECTION_CLOSED_ABNORMALLY: 15,
  STOP_BC_DATA_CONNECTION_CLOSED_ABNORMALLY: 16,
  STOP_BC_EXIT_SIGNAL: 17,
  STOP_BC_AUTHENTICATION_FAILURE: 18,
  STOP_BC_AWAIT_RECONNECTION_TIMEOUT: 19,
  STOP_BC_RECEIVER_REQUEST_CLOSE: 20,
  STOP_BC_CUSTOMER_DISCONNECTED: 21,
  STOP_BC_AGENT_DISCONNECTED: 22,
  STOP_BC_ADMIN_DISABLED_APP: 23,
  STOP_BC_KEEP_ALIVE_TIMEOUT: 24,
  STOP_BC_MANUAL_API_TRIGGERED: 25,
  STOP_BC_STREAMING_NOT_SUPPORTED: 26,
} as const;
export type StopReason = (typeof StopReason)[keyof typeof StopReason];

/**
 * RTMS_STATUS_CODE: `status_code` of handshake and request responses. 0 is success. Numbers and
 * names as Zoom's own helper library lists them (zoom/rtms-samples `library/`, July 2026); an older
 * table (1 = invalid signature) is obsolete. See PROTOCOL.md §4.
 */
export const StatusCode = {
  SUCCESS: 0,
  INVALID_MESSAGE_TYPE: 1,
  INVALID_RTMS_STREAM_ID: 2,
  INVALID_SIGNATURE: 3,
  INVALID_PAYLOAD: 4,
  INVALID_EVENTS: 5,
  INVALID_EVENT_TYPE: 6,
  INVALID_MEDIA_TYPE: 7,
  DUPLICATE_SIGNAL_REQUEST: 8,
  MEDIA_TYPE_AUDIO_NOT_SUPPORT: 9,
  MEDIA_TYPE_VIDEO_NOT_SUPPORT: 10,
  MEDIA_TYPE_DESKSHARE_NOT_SUPPORT: 11,
  MEDIA_TYPE_TRANSCRIPT_NOT_SUPPORT: 12,
  MEDIA_TYPE_CHAT_NOT_SUPPORT: 13,
  MEDIA_TYPE_INVALID_VALUE: 14,
  MEDIA_DATA_ALL_CONNECTION_EXIST: 15,
  DUPLICATE_MEDIA_DATA_CONNECTION: 16,
  INVALID_MEDIA_PARAMS: 17,
  INVALID_MEDIA_AUDIO_PARAMS: 18,
  INVALID_MEDIA_AUDIO_CONTENT_TYPE: 19,
  INVALID_MEDIA_AUDIO_SAMPLE_RATE: 20,
  INVALID_MEDIA_AUDIO_CHANNEL: 21,
  INVALID_MEDIA_AUDIO_CODEC: 22,
  INVALID_MEDIA_AUDIO_DATA_OPT: 23,
  INVALID_MEDIA_AUDIO_SEND_RATE: 24,
  INVALID_MEDIA_VIDEO_PARAMS: 25,
  INVALID_MEDIA_VIDEO_CONTENT_TYPE: 26,
  INVALID_MEDIA_VIDEO_CODEC: 27,
  INVALID_MEDIA_VIDEO_RESOLUTION: 28,
  INVALID_MEDIA_VIDEO_DATA_OPT: 29,
  INVALID_MEDIA_VIDEO_FPS: 30,
  INVALID_MEDIA_DESKSHARE_PARAMS: 31,
  INVALID_MEDIA_DESKSHARE_CONTENT_TYPE: 32,
  INVALID_MEDIA_DESKSHARE_CODEC: 33,
  INVALID_MEDIA_DESKSHARE_RESOLUTION: 34,
  INVALID_MEDIA_DESKSHARE_FPS: 35,
  INVALID_MEDIA_TRANSCRIPT_PARAMS: 36,
  INVALID_MEDIA_TRANSCRIPT_CONTENT_TYPE: 37,
  INVALID_MEDIA_CHAT_PARAMS: 38,
  INVALID_MEDIA_CHAT_CONTENT_TYPE: 39,
  INVALID_RTMS_SESSION_ID: 40,
  INVALID_CLIENT_READY_ACK: 41,
  INVALID_EVENT_SUBSCRIBE: 42,
  INVALID_MEDIA_TRANSCRIPT_SOURCE_LANGUAGE: 43,
  INVALID_MEDIA_TRANSCRIPT_TARGET_LANGUAGE: 46,
  CHAT_SESSION_KEY_NOT_AVAILABLE: 47,
} as const;
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode];

/**
 * What kind of failure a status is, as Zoom's library groups them: `auth`, `request`, `stream` and
 * `media` failures repeat if retried; `connection` (a socket of this stream still open on the
 * server) and `server` ones are transient.
 */
export type StatusCategory = 'success' | 'request' | 'stream' | 'auth' | 'connection' | 'media' | 'server';

/** The category of a status code; unknown codes count as `server` (transient). */
export function statusCategory(status: number): StatusCategory {
  if (status === StatusCode.SUCCESS) return 'success';
  if (status === StatusCode.INVALID_SIGNATURE) return 'auth';
  if (status === StatusCode.INVALID_RTMS_STREAM_ID || status === StatusCode.INVALID_RTMS_SESSION_ID) return 'stream';
  if (status === StatusCode.DUPLICATE_SIGNAL_REQUEST || status === StatusCode.MEDIA_DATA_ALL_CONNECTION_EXIST || status === StatusCode.DUPLICATE_MEDIA_DATA_CONNECTION) return 'connection';
  if (status >= StatusCode.MEDIA_TYPE_AUDIO_NOT_SUPPORT && status <= StatusCode.MEDIA_TYPE_CHAT_NOT_SUPPORT) return 'media';
  if (status === StatusCode.CHAT_SESSION_KEY_NOT_AVAILABLE || nameOf(StatusCode, status) === undefined) return 'server';
  return 'request';
}

/** TRANSCRIPT_LANGUAGE (`src_language`). NONE (-1) means automatic language identification. */
export const TranscriptLanguage = {
  NONE: -1,
  ARABIC: 0,
  BENGALI: 1,
  CANTONESE: 2,
  CATALAN: 3,
  CHINESE_SIMPLIFIED: 4,
  CHINESE_TRADITIONAL: 5,
  CZECH: 6,
  DANISH: 7,
  DUTCH: 8,
  ENGLISH: 9,
  ESTONIAN: 10,
  FINNISH: 11,
  FRENCH_CANADA: 12,
  FRENCH_FRANCE: 13,
  GERMAN: 14,
  HEBREW: 15,
  HINDI: 16,
  HUNGARIAN: 17,
  INDONESIAN: 18,
  ITALIAN: 19,
  JAPANESE: 20,
  KOREAN: 21,
  MALAY: 22,
  PERSIAN: 23,
  POLISH: 24,
  PORTUGUESE: 25,
  ROMANIAN: 26,
  RUSSIAN: 27,
  SPANISH: 28,
  SWEDISH: 29,
  TAGALOG: 30,
  TAMIL: 31,
  TELUGU: 32,
  THAI: 33,
  TURKISH: 34,
  UKRAINIAN: 35,
  VIETNAMESE: 36,
} as const;
export type TranscriptLanguage = (typeof TranscriptLanguage)[keyof typeof TranscriptLanguage];

/** Latest signaling/data protocol version this implementation speaks. */
export const PROTOCOL_VERSION = 1;

/**
 * Client-side keep-alive tolerances: a socket silent for longer than this is treated as dead (Zoom's
 * March 2026 figures). The server pings only while no data flows, so a healthy socket is never
 * silent for much more than {@link KEEPALIVE_INTERVAL_MS}.
 */
export const KEEPALIVE_TOLERANCE_MS = { signaling: 60_000, media: 65_000 } as const;

/** The server sends KEEP_ALIVE_REQ about this often on a socket where no data flows. */
export const KEEPALIVE_INTERVAL_MS = 10_000;

/** Unanswered keep-alive requests in a row after which the server ends the connection (~30 s). */
export const KEEPALIVE_MAX_MISSED = 3;

/**
 * How long the server keeps a stream for an app whose connection dropped ("Failover and
 * reconnection"): ~60 s after the signaling connection, ~30 s after a media connection.
 */
export const RECONNECT_WINDOW_MS = { signaling: 60_000, media: 30_000 } as const;

/** The reconnection backoff Zoom's docs and sample recommend: 3 s doubling to 30 s. */
export const ZOOM_RECONNECT_BACKOFF = { initialDelayMs: 3_000, maxDelayMs: 30_000, multiplier: 2 } as const;

/**
 * Status 8 (DUPLICATE_SIGNAL_REQUEST) on a signaling handshake is transient: the server has not yet
 * let go of the previous connection. Zoom's library retries after 1.5 s, doubling, 3 times.
 */
export const DUPLICATE_SIGNAL_RETRY = { initialDelayMs: 1_500, multiplier: 2, attempts: 3 } as const;

/** The reason text Zoom sends with status 8, which Zoom's library matches on. */
export const DUPLICATE_SIGNAL_REASON = 'duplicate signal request';

/**
 * Stop reasons after which the app restarts from scratch (case 4 of "Failover and reconnection"):
 * Zoom may start the same stream again with a new `*.rtms_started`.
 */
export const RESTART_STOP_REASONS: ReadonlySet<number> = new Set([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 24]);

/** Reverse lookup: the constant's name for a value, e.g. `nameOf(MsgType, 12) === 'KEEP_ALIVE_REQ'`. */
export function nameOf<T extends Record<string, number>>(table: T, value: number): keyof T | undefined {
  for (const key in table) if (table[key] === value) return key;
  return undefined;
}

/** True when `value` is one of the table's values. */
export function isMember<T extends Record<string, number>>(table: T, value: unknown): value is T[keyof T] {
  if (typeof value !== 'number') return false;
  for (const key in table) if (table[key] === value) return true;
  return false;
}

// ---- July 2026 additions (Zoom's RTMSManager `utils/rtmsProtocolDefinitions.js`). Appended, never
// interleaved with the tables above, so the older tables keep their order. Zoom marks these numbers
// overridable: its changelog named them before a numeric table was published.

/** Chat v2 `operation_type` of MEDIA_DATA_CHAT. Absent (older servers) means NEW. */
export const ChatOperation = {
  NEW: 1,
  DELETE: 2,
  UPDATE: 3,
  ADD_EMOJI_REACTION: 4,
  REMOVE_EMOJI_REACTION: 5,
} as const;
export type ChatOperation = (typeof ChatOperation)[keyof typeof ChatOperation];

/** Chat v2 `chat_session.type`: who a message was addressed to. */
export const ChatSessionType = {
  EVERYONE: 1,
  INDIVIDUAL: 2,
  CHAT_GROUP: 3,
  HOSTS_AND_PANELISTS: 4,
  INDIVIDUAL_CC_HOSTS_AND_PANELISTS: 5,
} as const;
export type ChatSessionType = (typeof ChatSessionType)[keyof typeof ChatSessionType];

/**
 * EVENT_TYPE values 10–14 for meetings, webinars and Video SDK sessions. Contact Center voice uses the
 * same numbers for USER_ANSWERED … MONITOR_STARTED ({@link ContactCenterEventType}): read them by product
 * (see `eventName` in protocol/events.ts).
 */
export const ChatGroupEventType = {
  CHAT_GROUP_CREATE: 10,
  CHAT_GROUP_DELETE: 11,
  CHAT_GROUP_MEMBERS_ADD: 12,
  CHAT_GROUP_MEMBERS_DELETE: 13,
  CHAT_GROUP_MEMBER_STATUS_UPDATE: 14,
} as const;
export type ChatGroupEventType = (typeof ChatGroupEventType)[keyof typeof ChatGroupEventType];

/** Member status in CHAT_GROUP_MEMBER_STATUS_UPDATE. */
export const ChatGroupMemberStatus = {
  IN_CHAT_GROUP: 0,
  IN_BREAKOUT_ROOM: 1,
  IN_WAITING_ROOM: 2,
  IN_BACKSTAGE: 3,
  LEFT_MEETING: 4,
} as const;
export type ChatGroupMemberStatus = (typeof ChatGroupMemberStatus)[keyof typeof ChatGroupMemberStatus];

/** Chat group type. */
export const ChatGroupType = { PRIVATE_CHAT_GROUP: 0 } as const;
export type ChatGroupType = (typeof ChatGroupType)[keyof typeof ChatGroupType];
