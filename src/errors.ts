/**
 * Typed errors. Every error openrtms raises or emits is an {@link OpenRtmsError} with a stable
 * `code` that callers can switch on; the message says what happened and what to do next.
 */

/** Stable error codes. Adding one is fine; renaming one is a breaking change. */
export type ErrorCode =
  // protocol
  | 'RTMS_BAD_JSON'
  | 'RTMS_BAD_MESSAGE'
  | 'RTMS_UNKNOWN_MSG_TYPE'
  | 'RTMS_FRAME_TOO_LARGE'
  // client
  | 'RTMS_SIGNATURE_REJECTED'
  | 'RTMS_HANDSHAKE_FAILED'
  | 'RTMS_JOIN_TIMEOUT'
  | 'RTMS_CONNECTION_LOST'
  | 'RTMS_KEEPALIVE_TIMEOUT'
  | 'RTMS_KICKED'
  | 'RTMS_STREAM_TERMINATED'
  | 'RTMS_RECONNECT_EXHAUSTED'
  | 'RTMS_SERVER_FAILOVER'
  | 'RTMS_INTERRUPTED'
  | 'RTMS_MEDIA_INTERRUPTED'
  | 'RTMS_DUPLICATE_SIGNAL'
  | 'RTMS_CLOSE_TIMEOUT'
  | 'RTMS_REQUEST_TIMEOUT'
  | 'RTMS_INVALID_STATE'
  | 'RTMS_INVALID_PAYLOAD'
  // webhook
  | 'WEBHOOK_BAD_SIGNATURE'
  | 'WEBHOOK_STALE_TIMESTAMP'
  | 'WEBHOOK_APP_MISMATCH'
  // Zoom REST API (on-demand control)
  | 'ZOOM_API_AUTH_FAILED'
  | 'ZOOM_API_ERROR'
  | 'ZOOM_API_UNREACHABLE'
  // storage
  | 'STORE_NOT_FOUND'
  | 'STORE_UNAVAILABLE'
  | 'STORE_MIGRATION_FAILED'
  | 'STORE_CLOSED'
  // recording
  | 'RECORDING_WRITE_FAILED'
  // cluster
  | 'CLUSTER_UNAVAILABLE'
  // delivery to object storage (S3, Azure Blob)
  | 'DELIVERY_UPLOAD_FAILED'
  | 'DELIVERY_VERIFY_FAILED'
  | 'DELIVERY_SOURCE_MISSING'
  | 'DELIVERY_CLOSED'
  | 'DELIVERY_DELETED'
  // delivery: RTMP restream
  | 'DELIVERY_FFMPEG_MISSING'
  | 'DELIVERY_RTMP_FAILED'
  // speech-to-text providers
  | 'STT_CONNECT_FAILED'
  // meeting intelligence (LLM notes, summaries, MCP)
  | 'INTELLIGENCE_NOT_CONFIGURED'
  | 'INTELLIGENCE_NOT_FOUND'
  // deletion and retention
  | 'STREAM_LIVE'
  | 'STREAM_NOT_FOUND'
  | 'DELETION_INCOMPLETE'
  // configuration / usage
  | 'CONFIG_MISSING'
  | 'CONFIG_INVALID'
  // speech-to-text providers
  | 'STT_CONNECT_FAILED'
  | 'UNSUPPORTED';

/** Base class of every error openrtms produces. */
export class OpenRtmsError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Extra structured facts (field names, status codes, ...), safe to log. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** A frame or message that does not follow the RTMS wire protocol. */
export class ProtocolError extends OpenRtmsError {}

/** A method called in a state where it cannot run (e.g. `leave()` before `join()`). */
export class InvalidStateError extends OpenRtmsError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('RTMS_INVALID_STATE', message, details);
  }
}

/** Missing or invalid configuration (flags, env vars, options). */
export class ConfigError extends OpenRtmsError {}

/** A connection-level failure of the RTMS client (handshake, keep-alive, reconnect, kick...). */
export class ConnectionError extends OpenRtmsError {}

/** NATS / JetStream could not be reached or refused an operation (cluster mode). */
export class ClusterError extends OpenRtmsError {}

/** A storage failure (database missing, unreachable, closed, or a migration that failed). */
export class StoreError extends OpenRtmsError {}

/** A recording could not be written (disk full, file too large, I/O error); the stream goes on. */
export class RecordingError extends OpenRtmsError {}

/**
 * An upload to a destination failed for good (retried past its max age, a local file gone, the
 * destination closed before it finished) or did not verify. The journal keeps what was done.
 */
export class DeliveryError extends OpenRtmsError {}

/** A stream could not be deleted (still live, unknown, or a part of it could not be removed). */
export class DeletionError extends OpenRtmsError {}
