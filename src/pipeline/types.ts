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
}

export type { ActiveSpeakerEvent, AudioFrame, ChatMessage, ParticipantEvent, TranscriptFrame, VideoFrame };
