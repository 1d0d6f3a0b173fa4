/**
 * The pipeline contract: one RtmsClient fans out to independent sinks (recorder, store, live bus,
 * metrics). A sink's frame handlers run on the socket reader's turn of the event loop, so they
 * must never block or await: queue the work, bound the queue, count any drop.
 */
import type { ActiveSpeakerEvent, AudioFrame, ChatMessage, ParticipantEvent, TranscriptFrame, VideoFrame } from '../client/types.js';
import type { MediaParams, Product } from '../protocol/index.js';

/** Facts about the stream a sink is attached to. */
export interface StreamInfo {
  rtmsStreamId: string;
  product: Product;
  /** meeting_uuid, session_id or engagement_id. */
  meetingUuid: string;
  operatorId?: string;
  /** When the stream started (ms since epoch): the webhook's time, or the first join. */
  startedAt: number;
  /**
   * Another connection received this stream before (a cluster worker died and this one took over):
   * sinks continue what it wrote — same recording, the outage recorded as a gap — instead of starting anew.
   */
  resume?: boolean;
}

/** Everything that is not media, as one timeline (written to events.jsonl, stored, sent live). */
export interface TimelineEvent {
  type:
    | 'participant_join'
    | 'participant_leave'
    | 'active_speaker'
    | 'sharing_start'
    | 'sharing_stop'
    | 'video_on'
    | 'video_off'
    | 'session_state'
    | 'stream_state'
    | 'joined'
    | 'reconnecting'
    | 'closed'
    // July 2026: the app paused and resumed (once per transition, whichever state update said it first),
    // chat groups (EVENT_UPDATE 10–14 outside Contact Center), the stream's first packet time.
    | 'paused'
    | 'resumed'
    | 'chat_group'
    | 'first_packet'
    | 'event';
  /** ms since epoch. */
  timestamp: number;
  userId?: number | string;
  userName?: string;
  /** Type-specific details (state numbers, stop reason, raw event...). */
  data?: Record<string, unknown>;
}

/** One word of a {@link TrackSegment}, times in ms since the epoch (the stream's clock). */
export interface TrackWord {
  text: string;
  startTime: number;
  endTime: number;
  confidence?: number;
}

/**
 * A final segment of a transcript track that a sink derived from the stream (speech-to-text):
 * `source` names the track (the transcription entry's name; Zoom's own track is `zoom`). Times are
 * ms since the epoch, on the stream's clock like Zoom's transcript.
 */
export interface TrackSegment {
  source: string;
  userId: number | string;
  userName: string;
  text: string;
  /** = startTime. */
  timestamp: number;
  startTime: number;
  endTime: number;
  language?: string;
  words?: TrackWord[];
}

/** A consumer of one stream. Every method is optional except `close`. */
export interface StreamSink {
  /** Called on every successful (re)join with the media parameters the server granted. */
  onJoined?(params: MediaParams, reconnected: boolean): void;
  onAudio?(frame: AudioFrame): void;
  onVideo?(frame: VideoFrame): void;
  onShare?(frame: VideoFrame): void;
  onTranscript?(frame: TranscriptFrame): void;
  onChat?(message: ChatMessage): void;
  onEvent?(event: TimelineEvent): void;
  /** Flushes everything and releases resources. Called once, when the stream ends. */
  close(): Promise<void>;
  /**
   * Called once when the sink is attached, with a function to report failures that happen outside
   * its handlers (a background disk or database write). The sink keeps running; reports go to the
   * pipeline's `onSinkError` (the server logs them). Sinks should report once per outage, not per write.
   */
  setErrorReporter?(report: (err: unknown) => void): void;
  /** A segment of a derived transcript track (speech-to-text) another sink of this stream made. */
  onTrackSegment?(segment: TrackSegment): void;
  /**
   * Called once when the sink is attached, for a sink that makes transcript tracks: `emit` hands a
   * segment to every other sink's {@link onTrackSegment} (isolated like frame handlers).
   */
  setTrackEmitter?(emit: (segment: TrackSegment) => void): void;
  /**
   * This sink feeds the others (speech-to-text flushes its last results on close): the pipeline
   * closes it, and waits for it, before closing the rest.
   */
  readonly closesFirst?: boolean;
}

export type { ActiveSpeakerEvent, AudioFrame, ChatMessage, ParticipantEvent, TranscriptFrame, VideoFrame };
