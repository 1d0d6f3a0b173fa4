/**
 * The delivery contract: destinations from the config file's `destinations` list (signed outbound
 * webhooks, S3 and Azure Blob, RTMP restream) plugged into the one pipeline. A destination never
 * slows the socket reader or another destination: `deliver()` and the live sink's frame handlers
 * return at once (queue durably, bound, count), the slow work happens behind them.
 */
import type { Product } from '../protocol/index.js';
import type { StreamInfo, StreamSink } from '../pipeline/types.js';

/** Event types sent to webhook destinations (ARCHITECTURE.md "Outbound webhooks"). */
export const DELIVERY_EVENT_TYPES = [
  'stream.started',
  'stream.paused',
  'stream.resumed',
  'stream.stopped',
  'participant.joined',
  'participant.left',
  'transcript.segment',
  'chat.message',
  'recording.ready',
  'summary.ready',
  'alert',
] as const;
export type DeliveryEventType = (typeof DELIVERY_EVENT_TYPES)[number];

/** The stream an event is about. */
export interface DeliveryStream {
  rtmsStreamId: string;
  meetingUuid: string;
  product: Product;
}

/**
 * One event, as the webhook body carries it:
 * `{"id":"evt_…","type":…,"createdAt":<ms>,"stream":{…},"data":{…}}`. `id` is the idempotency key
 * (stable across retries and restarts): derived from the stream and what happened, so the same
 * happening never gets two ids.
 */
export interface DeliveryEvent {
  id: string;
  type: DeliveryEventType;
  createdAt: number;
  stream: DeliveryStream;
  data: Record<string, unknown>;
}

/** Which events go to a destination (all given conditions must hold; absent = any). */
export interface DestinationMatch {
  products?: Product[];
  /** meeting_uuid / session_id / … values. */
  meetingIds?: string[];
  /** Event types (webhook destinations; `events` at the destination's top level is the same). */
  events?: DeliveryEventType[];
}

interface DestinationBase {
  /** Shown in logs, metrics and the API. Default `<type><N>`. */
  name: string;
  match?: DestinationMatch;
}

export interface WebhookDestinationConfig extends DestinationBase {
  type: 'webhook';
  url: string;
  /** Signs each request: `x-openrtms-signature: v1=<hex HMAC-SHA256(secret, "v1:{timestamp}:{raw body}")>`. */
  secret: string;
  events?: DeliveryEventType[];
  /** How long an event is retried before it becomes a dead letter. Default 24 h. */
  maxAgeHours: number;
  /** A 2xx within this time is delivered. Default 10 s. */
  timeoutMs: number;
}

export interface S3DestinationConfig extends DestinationBase {
  type: 's3';
  bucket: string;
  /** Key prefix, e.g. `rtms/`. Default ''. */
  prefix: string;
  region: string;
  /** S3-compatible endpoint (MinIO, R2, …). */
  endpoint?: string;
  forcePathStyle: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Delete the local recording once every file is uploaded. Default false. */
  deleteLocal: boolean;
  /** How long an upload is retried (storage down) before it counts as failed. Default 24 h. */
  maxAgeHours?: number;
}

export interface AzureBlobDestinationConfig extends DestinationBase {
  type: 'azure-blob';
  connectionString: string;
  container: string;
  prefix: string;
  deleteLocal: boolean;
  /** How long an upload is retried (storage down) before it counts as failed. Default 24 h. */
  maxAgeHours?: number;
}

export interface RtmpDestinationConfig extends DestinationBase {
  type: 'rtmp';
  /** e.g. rtmp://a.rtmp.youtube.com/live2/KEY. Never logged whole (the key is a secret). */
  url: string;
  /** Default `ffmpeg` on PATH. */
  ffmpegPath?: string;
}

export type DestinationConfig = WebhookDestinationConfig | S3DestinationConfig | AzureBlobDestinationConfig | RtmpDestinationConfig;
export type DestinationType = DestinationConfig['type'];

/** A finished recording on disk, ready to upload. */
export interface FinishedRecording {
  info: StreamInfo;
  /** The stream's recording directory. */
  dir: string;
}

/** One file an object-storage destination holds, for `recording.ready`. */
export interface UploadedFile {
  /** Path inside the recording directory, e.g. `audio/mixed.wav`. */
  path: string;
  /** Where it now is (`s3://bucket/key`, or the blob's https URL). */
  url: string;
  bytes: number;
  /** Hex SHA-256 of the content. */
  sha256: string;
}

/** Figures per destination, in `/metrics`, the API and the dashboard. */
export interface DestinationStats {
  /** Waiting to be delivered or uploaded. */
  queued: number;
  delivered: number;
  retried: number;
  /** Gave up (dead letters, failed uploads). */
  failed: number;
  /** Age (ms) of the oldest item still waiting; 0 when none. */
  lagMs: number;
}

/** An event a destination gave up on, as the API lists it. */
export interface DeadLetter {
  id: string;
  type: string;
  rtmsStreamId: string;
  createdAt: number;
  attempts: number;
  lastError: string | null;
}

/**
 * A configured destination. Each kind implements the part it takes:
 * - `deliver`: webhook destinations (events);
 * - `recordingFinished`: object storage (a complete recording to upload; resolves with what it holds);
 * - `sinkFor`: live media (RTMP restream), one sink per stream.
 */
export interface Destination {
  readonly name: string;
  readonly type: DestinationType;
  /** Whether this destination takes events / recordings / media of this stream (its `match`). */
  matches(stream: DeliveryStream, eventType?: DeliveryEventType): boolean;
  start?(): Promise<void>;
  deliver?(event: DeliveryEvent): void;
  recordingFinished?(recording: FinishedRecording): Promise<UploadedFile[]>;
  sinkFor?(info: StreamInfo): StreamSink | undefined;
  stats(): DestinationStats;
  /** Events that were given up on (webhook destinations), oldest first. */
  deadLetters?(limit?: number): DeadLetter[];
  /** Queues dead letters again (all when `ids` is absent); resolves with how many. */
  replay?(ids?: readonly string[]): number;
  /**
   * Removes what this destination holds of a deleted stream (object storage: the uploaded objects and
   * the journal entry); counts only with `dryRun`. Destinations that keep nothing leave it out.
   */
  deleteStream?(rtmsStreamId: string, dryRun?: boolean): Promise<{ objects: number; journal: number }>;
  /** Stops taking work, keeps what is queued durable, releases resources. Idempotent. */
  close(): Promise<void>;
}
