/**
 * Connects one RtmsClient to its sinks. A sink that throws is isolated: the error is counted and
 * reported once per sink, and the other sinks and the socket reader carry on.
 */
import type { RtmsClient } from '../client/client.js';
import { EventType } from '../protocol/index.js';
import type { StreamInfo, StreamSink, TimelineEvent } from './types.js';

const EVENT_NAMES: Partial<Record<number, TimelineEvent['type']>> = {
  [EventType.ACTIVE_SPEAKER_CHANGE]: 'active_speaker',
  [EventType.PARTICIPANT_JOIN]: 'participant_join',
  [EventType.PARTICIPANT_LEAVE]: 'participant_leave',
  [EventType.SHARING_START]: 'sharing_start',
  [EventType.SHARING_STOP]: 'sharing_stop',
  [EventType.PARTICIPANT_VIDEO_ON]: 'video_on',
  [EventType.PARTICIPANT_VIDEO_OFF]: 'video_off',
};

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
    event: (e: { event_type: number; timestamp?: number; participants?: { user_id: number | string; user_name?: string }[]; user_id?: number | string; user_name?: string }) => {
      const type = isContactCenter && e.event_type >= 8 ? 'event' : (EVENT_NAMES[e.event_type] ?? 'event');
      const people = e.participants ?? (e.user_id !== undefined ? [{ user_id: e.user_id, user_name: e.user_name }] : [{ user_id: undefined, user_name: undefined }]);
      for (const p of people) {
        timeline({ type, timestamp: e.timestamp ?? Date.now(), userId: p.user_id, userName: p.user_name, data: { event_type: e.event_type } });
      }
    },
    sessionState: (e: { state: number; stopReason?: number; timestamp?: number }) =>
      timeline({ type: 'session_state', timestamp: e.timestamp ?? Date.now(), data: { state: e.state, stop_reason: e.stopReason } }),
    streamState: (e: { state: number; stopReason?: number; timestamp?: number }) =>
      timeline({ type: 'stream_state', timestamp: e.timestamp ?? Date.now(), data: { state: e.state, stop_reason: e.stopReason } }),
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
        const results = await Promise.allSettled(sinks.map((s) => s.close()));
        results.forEach((r, i) => r.status === 'rejected' && guard(i, r.reason));
      })();
      return closing;
    },
  };
}
