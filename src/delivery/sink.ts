/**
 * DeliverySink: turns one stream into DeliveryEvents (stream.started/paused/resumed,
 * participant.joined/left, transcript.segment, chat.message; `stream.stopped` via {@link finish}).
 * It takes no media frames (the pipeline only calls sinks for the kinds they implement), so it costs
 * nothing per audio frame.
 */
import type { ChatMessage, StreamInfo, StreamSink, TimelineEvent, TrackSegment, TranscriptFrame } from '../pipeline/types.js';
import { eventId } from './ids.js';
import type { DeliveryEvent, DeliveryEventType, DeliveryStream } from './types.js';

export type Emit = (event: DeliveryEvent) => void;

export function streamOf(info: StreamInfo): DeliveryStream {
  return { rtmsStreamId: info.rtmsStreamId, meetingUuid: info.meetingUuid, product: info.product };
}

export class DeliverySink implements StreamSink {
  readonly #stream: DeliveryStream;
  #started = false;
  #stopped = false;
  /** Why the client closed (its `closed` timeline event), for stream.stopped. */
  #closed?: { at: number; data: Record<string, unknown> };

  constructor(
    readonly info: StreamInfo,
    private readonly emit: Emit,
  ) {
    this.#stream = streamOf(info);
  }

  #send(type: DeliveryEventType, createdAt: number, key: readonly unknown[], data: Record<string, unknown>): void {
    this.emit({ id: eventId(this.#stream.rtmsStreamId, type, key), type, createdAt, stream: this.#stream, data });
  }

  onEvent(e: TimelineEvent): void {
    switch (e.type) {
      case 'joined':
        if (this.#started) return;
        this.#started = true;
        // One per stream: the id does not depend on when, so a rejoin after a restart is the same event.
        this.#send('stream.started', this.info.startedAt, [], { startedAt: this.info.startedAt, ...(this.info.operatorId ? { operatorId: this.info.operatorId } : {}) });
        return;
      case 'paused':
      case 'resumed':
        this.#send(e.type === 'paused' ? 'stream.paused' : 'stream.resumed', e.timestamp, [e.timestamp], { source: e.data?.source });
        return;
      case 'participant_join':
      case 'participant_leave':
        if (e.userId === undefined) return;
        this.#send(e.type === 'participant_join' ? 'participant.joined' : 'participant.left', e.timestamp, [e.timestamp, e.userId], { userId: String(e.userId), userName: e.userName ?? '' });
        return;
      case 'closed':
        // Not sent yet: a client closed to hand the stream to another process (cluster) did not stop it.
        this.#closed = { at: e.timestamp, data: { reason: e.data?.reason, ...(e.data?.stop_reason !== undefined ? { stopReason: e.data.stop_reason } : {}), ...(e.data?.code ? { code: e.data.code } : {}) } };
        return;
      default:
    }
  }

  onTranscript(t: TranscriptFrame): void {
    this.#send('transcript.segment', t.timestamp, [t.timestamp, t.userId, t.startTime, t.text], {
      source: 'zoom',
      userId: String(t.userId),
      userName: t.userName,
      text: t.text,
      timestamp: t.timestamp,
      ...(t.startTime !== undefined ? { startTime: t.startTime } : {}),
      ...(t.endTime !== undefined ? { endTime: t.endTime } : {}),
      ...(t.language !== undefined ? { language: t.language } : {}),
    });
  }

  /** A speech-to-text segment: `transcript.segment` with its track's `source`. */
  onTrackSegment(s: TrackSegment): void {
    this.#send('transcript.segment', s.timestamp, [s.source, s.timestamp, s.userId, s.startTime, s.text], {
      source: s.source,
      userId: String(s.userId),
      userName: s.userName,
      text: s.text,
      timestamp: s.timestamp,
      startTime: s.startTime,
      endTime: s.endTime,
      ...(s.language !== undefined ? { language: s.language } : {}),
      ...(s.words?.length ? { words: s.words } : {}),
    });
  }

  onChat(m: ChatMessage): void {
    const operation = m.operation ?? 'new';
    this.#send('chat.message', m.timestamp, [m.timestamp, m.messageId, operation, m.userId, m.emoji, m.messageId ? '' : m.text], {
      operation,
      ...(m.messageId !== undefined ? { messageId: m.messageId } : {}),
      ...(m.parentMessageId !== undefined ? { parentMessageId: m.parentMessageId } : {}),
      userId: String(m.userId),
      userName: m.userName,
      text: m.text,
      timestamp: m.timestamp,
      ...(m.chatSession !== undefined ? { chatSession: m.chatSession } : {}),
      ...(m.sender !== undefined ? { sender: m.sender } : {}),
      ...(m.receiver !== undefined ? { receiver: m.receiver } : {}),
      ...(m.files !== undefined ? { files: m.files } : {}),
      ...(m.deleteFileIds !== undefined ? { deleteFileIds: m.deleteFileIds } : {}),
      ...(m.emoji !== undefined ? { emoji: m.emoji } : {}),
    });
  }

  /**
   * The stream has ended here and its pipeline is closed (the registry's `onPipelineClosed`, never
   * called for a cluster handover): sends `stream.stopped` once, with the close reason when known.
   */
  finish(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const c = this.#closed ?? { at: Date.now(), data: { reason: 'closed' } };
    this.#send('stream.stopped', c.at, [], c.data);
  }

  /** When the pipeline closed this sink (ms), if it has. */
  closedAt?: number;

  async close(): Promise<void> {
    this.closedAt = Date.now();
  }
}
