/**
 * Messages of the live feed. Every message is a small JSON object `{ type, streamId, ... }`, sent
 * as is over the WebSocket (`GET /api/live`) and as SSE `data:` lines (`GET /api/streams/:id/events`).
 */
import type { MeetingSummary } from '../intelligence/types.js';

/** A stream appeared (`started`) or ended (`ended`). Sent to every subscriber, whatever its filter. */
export interface LiveStreamMessage {
  type: 'stream';
  streamId: string;
  action: 'started' | 'ended';
  meetingUuid: string;
  product: string;
  startedAt: number;
  timestamp: number;
}

export interface LiveTranscriptMessage {
  type: 'transcript';
  streamId: string;
  /** The track: `zoom` (Zoom's transcript) or a speech-to-text entry's name. */
  source: string;
  userId: string;
  userName: string;
  text: string;
  timestamp: number;
  startTime?: number;
  endTime?: number;
  /** Word timings (speech-to-text tracks, when the provider gives them). */
  words?: { text: string; startTime: number; endTime: number; confidence?: number }[];
}

/**
 * A chat change. Viewers keep messages by `messageId` and apply the operation: `new` adds one, `update`
 * replaces its `text`, `delete` removes it, `reaction` replaces its `reactions`. Plain-text chat (no id) is
 * always `new`. `userId`, `userName`, `text` are the message's as it now stands (`text` is empty for a delete).
 */
export interface LiveChatMessage {
  type: 'chat';
  streamId: string;
  operation: 'new' | 'update' | 'delete' | 'reaction';
  userId: string;
  userName: string;
  text: string;
  timestamp: number;
  messageId?: string;
  parentMessageId?: string;
  chatSession?: Record<string, unknown>;
  receiver?: { userId: string; userName: string };
  files?: Record<string, unknown>[];
  reactions?: { emoji: string; count: number; users: { userId: string; userName: string }[] }[];
  editedAt?: number;
}

export interface LiveParticipantMessage {
  type: 'participant';
  streamId: string;
  action: 'join' | 'leave';
  userId: string;
  userName: string;
  timestamp: number;
}

export interface LiveActiveSpeakerMessage {
  type: 'active_speaker';
  streamId: string;
  userId: string;
  userName: string;
  timestamp: number;
}

/** Audio level of one participant (`userId` "0" is the mixed track), at most ~10 per second each. */
export interface LiveLevelMessage {
  type: 'level';
  streamId: string;
  userId: string;
  userName: string;
  /** RMS level over the last window in dBFS (0 = full scale), floored at -100. */
  dbfs: number;
  /** Peak sample over the window in dBFS. */
  peak: number;
  timestamp: number;
}

/** Connection and session state: joined, reconnecting, closed, session/stream state updates. */
export interface LiveStateMessage {
  type: 'state';
  streamId: string;
  /** `paused`/`resumed`: the app was paused (connected, no media) and resumed. */
  state: 'joined' | 'reconnecting' | 'closed' | 'session_state' | 'stream_state' | 'paused' | 'resumed';
  data?: Record<string, unknown>;
  timestamp: number;
}

/** Other timeline events (sharing start/stop, video on/off, Contact Center events...). */
export interface LiveEventMessage {
  type: 'event';
  streamId: string;
  event: string;
  userId?: string;
  userName?: string;
  data?: Record<string, unknown>;
  timestamp: number;
}

/** A new thumbnail can be fetched from `url` (GET, same auth as the API). */
export interface LiveThumbnailMessage {
  type: 'thumbnail';
  streamId: string;
  kind: 'video' | 'deskshare';
  userId: string;
  /** `video/mp4`: a one-frame MP4 (the server has no ffmpeg); show it in a <video>. */
  contentType: 'image/jpeg' | 'image/png' | 'video/mp4';
  url: string;
  timestamp: number;
}

/** Sent to a subscriber that was too slow: `dropped` messages were discarded for it since the last one. */
export interface LiveLaggedMessage {
  type: 'lagged';
  streamId: string;
  dropped: number;
  timestamp: number;
}

/** What a new subscriber of a stream receives first: the present state of that stream. */
export interface LiveSnapshotMessage {
  type: 'snapshot';
  streamId: string;
  state: string;
  participants: { userId: string; userName: string; dbfs?: number }[];
  activeSpeaker?: { userId: string; userName: string };
  thumbnails: { kind: 'video' | 'deskshare'; url: string; timestamp: number }[];
  timestamp: number;
}

/** A stream's LLM notes were updated (`notes`) or its final summary is ready (`final`); the same content as GET /api/streams/:id/summary. */
export interface LiveSummaryMessage {
  type: 'summary';
  streamId: string;
  kind: 'notes' | 'final';
  notes: string;
  summary?: MeetingSummary;
  model: string;
  updatedAt: number;
  timestamp: number;
}

export type LiveMessage =
  | LiveStreamMessage
  | LiveTranscriptMessage
  | LiveChatMessage
  | LiveParticipantMessage
  | LiveActiveSpeakerMessage
  | LiveLevelMessage
  | LiveStateMessage
  | LiveEventMessage
  | LiveThumbnailMessage
  | LiveLaggedMessage
  | LiveSnapshotMessage
  | LiveSummaryMessage;

export type LiveMessageType = LiveMessage['type'];
