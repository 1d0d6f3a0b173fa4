/** The emulator's counters and its `--json` summary (shape fixed by ARCHITECTURE.md). */

export const KINDS = ['audio', 'video', 'share', 'transcript', 'chat', 'events'] as const;
export type CountKind = (typeof KINDS)[number];
export type KindCounts = Record<CountKind, number>;

export const zeroCounts = (): KindCounts => ({ audio: 0, video: 0, share: 0, transcript: 0, chat: 0, events: 0 });

export interface FaultReport {
  spec: string;
  at_ms: number;
  /** A client completed the handshakes again after the fault and received media. */
  client_recovered: boolean;
  /** Whether a well-behaved client is expected to recover from this fault. */
  expected_recovery: boolean;
  rtms_stream_id: string;
}

export interface StreamReport {
  rtms_stream_id: string;
  product: string;
  meeting_uuid: string;
  connections: number;
  kicked: number;
  sent: KindCounts;
  missed: KindCounts;
  /**
   * How the stream ended: scenario end, a client's STREAM_CLOSE_REQ, the emulator closing, a stop
   * through Zoom's REST API (`api`), or the app not coming back within Zoom's waiting window after losing its connection.
   */
  ended_by: 'scenario' | 'client' | 'emulator-closed' | 'reconnect-timeout' | 'api';
}

export interface EmulatorSummary {
  streams: number;
  duration_s: number;
  completed: boolean;
  sent: KindCounts;
  missed: KindCounts;
  webhooks: { sent: number; retried: number; failed: number };
  connections: {
    signaling: number;
    media: number;
    kicked: number;
    rejected_signature: number;
    rejected_finished: number;
    /** Signaling handshakes refused with status 8 while another connection held the stream. */
    rejected_duplicate: number;
    rejected_other: number;
  };
  keepalive: { sent: number; answered: number; missed: number };
  /** Frames from clients that were not valid RTMS messages. */
  bad_client_frames: number;
  faults: FaultReport[];
  per_stream: StreamReport[];
}

/** Mutable counters shared by the emulator's parts. */
export class Counters {
  webhooks = { sent: 0, retried: 0, failed: 0 };
  connections = { signaling: 0, media: 0, kicked: 0, rejected_signature: 0, rejected_finished: 0, rejected_duplicate: 0, rejected_other: 0 };
  keepalive = { sent: 0, answered: 0, missed: 0 };
  badClientFrames = 0;
}
