/**
 * Connects one RtmsClient to its sinks. A sink that throws is isolated: the error is counted and
 * reported once per sink, and the other sinks and the socket reader carry on.
 */
import type { RtmsClient } from '../client/client.js';
import { EventType, SessionState, StreamState, eventName, isChatGroupEvent } from '../protocol/index.js';
import type { StreamInfo, StreamSink, TimelineEvent } from './types.js';

const EVENT_NAMES: Partial<Record<number, TimelineEvent['type']>> = {
  [EventType.ACTIVE_SPEAKER_CHANGE]: 'active_speaker',
  [EventType.PARTICIPANT_JOIN]: 'participant_join',
  [EventType.PARTICIPANT_LEAVE]: 'participant_leave',
  [EventType.SHARING_START]: 'sharing_start',
  [EventType.SHARING_STOP]: 'sharing_stop',
  [EventType.PARTICIPANT_VIDEO_ON]: 'video_on',
  [EventType.PARTICIPANT_VIDEO_OFF]: 'video_off',
  [EventType.FIRST_PACKET_TIMESTAMP]: 'first_packet',
};

/** Chat-group fields of an EVENT_UPDATE, kept as sent (Zoom's library types them loosely). */
const CHAT_GROUP_FIELDS = ['chat_groups', 'members_update_list', 'member_status_update_list'] as const;

export interface PipelineHandle {
  /** Sink errors so far, by sink index. */
  readonly sinkErrors: number[];
  /** Detaches from the client and closes every sink (flushing it). Idempotent. */
  close(): Promise<void>;
}

/** Fans the client's frames and events out to the sinks until `close()`. */
export function attachPipeline(
  client: RtmsClient,
  info: StreamInfo,
  sinks: StreamSink[],
  onSinkError?: (index: number, err: unknown) => void,
): PipelineHandle {
  const sinkErrors = sinks.map(() => 0);
  const guard = (i: number, err: unknown) => {
    if (sinkErrors[i]++ === 0) onSinkError?.(i, err);
  };
  function each(fn: (s: StreamSink) => void): void {
    for (let i = 0; i < sinks.length; i++) {
      try {
        fn(sinks[i]);
      } catch (err) {
        guard(i, err);
      }
    }
  }
  // Failures a sink notices later (background writes) are reported every time, not only the first.
  sinks.forEach((s, i) =>
    s.setErrorReporter?.((err) => {
      sinkErrors[i]++;
      onSinkError?.(i, err);
    }),
  );
  // Derived transcript tracks (speech-to-text) reach every sink except the one that made them.
  sinks.forEach((s, i) =>
    s.setTrackEmitter?.((segment) => {
      for (let j = 0; j < sinks.length; j++) {
        if (j === i || !sinks[j].onTrackSegment) continue;
        try {
          sinks[j].onTrackSegment!(segment);
        } catch (err) {
          guard(j, err);
        }
      }
    }),
  );
  const timeline = (e: TimelineEvent) => each((s) => s.onEvent?.(e));
  /**
   * The hot path (50 audio frames a second per stream): a plain loop over the methods of the sinks
   * that take the frame, bound once, without a closure or a by-name lookup per frame.
   */
  function frameHandler<K extends 'onAudio' | 'onVideo' | 'onShare' | 'onTranscript' | 'onChat'>(method: K) {
    type Frame = Parameters<NonNullable<StreamSink[K]>>[0];
    const takers = sinks.flatMap((s, i) => (s[method] ? [i] : []));
    const calls = takers.map((i) => (sinks[i][method] as (f: Frame) => void).bind(sinks[i]));
    return (f: Frame): void => {
      for (let k = 0; k < calls.length; k++) {
        try {
          calls[k](f);
        } catch (err) {
          guard(takers[k], err);
        }
      }
    };
  }
  // Contact Center reuses event numbers 8 and up with other meanings: keep those as raw events.
  const isContactCenter = info.product === 'contact_center';
  // Zoom sends both a stream and a session state for a pause: the timeline marks the transition once.
  let paused = false;
  const pauseState = (nowPaused: boolean, source: 'stream' | 'session', state: number, timestamp: number | undefined) => {
    if (nowPaused === paused) return;
    paused = nowPaused;
    timeline({ type: nowPaused ? 'paused' : 'resumed', timestamp: timestamp ?? Date.now(), data: { source, state } });
  };

  const handlers = {
    joined: (e: { mediaParams: import('../protocol/index.js').MediaParams; reconnected: boolean }) => {
      each((s) => s.onJoined?.(e.mediaParams, e.reconnected));
      timeline({ type: 'joined', timestamp: Date.now(), data: { reconnected: e.reconnected } });
    },
    audio: frameHandler('onAudio'),
    video: frameHandler('onVideo'),
    deskshare: frameHandler('onShare'),
    transcript: frameHandler('onTranscript'),
    chat: frameHandler('onChat'),
    event: (e: { event_type: number; timestamp?: number; participants?: { user_id: number | string; user_name?: string }[]; user_id?: number | string; user_name?: string; [field: string]: unknown }) => {
      // Event numbers are read per product: 10–14 are chat groups in meetings, call events in Contact Center.
      const name = eventName(info.product, e.event_type);
      if (isChatGroupEvent(info.product, e.event_type)) {
        const data: Record<string, unknown> = { event_type: e.event_type, name };
        for (const f of CHAT_GROUP_FIELDS) if (e[f] !== undefined) data[f] = e[f];
        timeline({ type: 'chat_group', timestamp: e.timestamp ?? Date.now(), userId: e.user_id, userName: e.user_name, data });
        return;
      }
      const type = isContactCenter && e.event_type >= 8 ? 'event' : (EVENT_NAMES[e.event_type] ?? 'event');
      const people = e.participants ?? (e.user_id !== undefined ? [{ user_id: e.user_id, user_name: e.user_name }] : [{ user_id: undefined, user_name: undefined }]);
      for (const p of people) {
        timeline({ type, timestamp: e.timestamp ?? Date.now(), userId: p.user_id, userName: p.user_name, data: { event_type: e.event_type, ...(name ? { name } : {}) } });
      }
    },
    sessionState: (e: { state: number; stopReason?: number; timestamp?: number }) => {
      timeline({ type: 'session_state', timestamp: e.timestamp ?? Date.now(), data: { state: e.state, stop_reason: e.stopReason } });
      if (e.state === SessionState.PAUSED || e.state === SessionState.RESUMED) pauseState(e.state === SessionState.PAUSED, 'session', e.state, e.timestamp);
    },
    streamState: (e: { state: number; stopReason?: number; timestamp?: number }) => {
      timeline({ type: 'stream_state', timestamp: e.timestamp ?? Date.now(), data: { state: e.state, stop_reason: e.stopReason } });
      if (e.state === StreamState.PAUSED || e.state === StreamState.RESUMED) pauseState(e.state === StreamState.PAUSED, 'stream', e.state, e.timestamp);
    },
    reconnecting: (e: { attempt: number; delayMs: number; error: { code: string; message: string } }) =>
      timeline({ type: 'reconnecting', timestamp: Date.now(), data: { attempt: e.attempt, delay_ms: e.delayMs, code: e.error.code, message: e.error.message } }),
    closed: (e: { reason: string; stopReason?: number; error?: { code: string; message: string } }) =>
      timeline({ type: 'closed', timestamp: Date.now(), data: { reason: e.reason, stop_reason: e.stopReason, code: e.error?.code } }),
  };
  for (const [name, fn] of Object.entries(handlers)) client.on(name as 'audio', fn as never);

  let closing: Promise<void> | undefined;
  return {
    sinkErrors,
    close() {
      closing ??= (async () => {
        for (const [name, fn] of Object.entries(handlers)) client.off(name as 'audio', fn as never);
        // Sinks that feed the others (their last results) close first; then the rest, together.
        for (const first of [true, false]) {
          const group = sinks.map((s, i) => [s, i] as const).filter(([s]) => Boolean(s.closesFirst) === first);
          const results = await Promise.allSettled(group.map(([s]) => s.close()));
          results.forEach((r, k) => r.status === 'rejected' && guard(group[k][1], r.reason));
        }
      })();
      return closing;
    },
  };
}
