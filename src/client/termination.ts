/**
 * Which failures end a client for good and which are worth a reconnect. Pure tables over the
 * protocol constants, so the policy is in one place and testable without sockets.
 */
import type { ErrorCode } from '../errors.js';
import { StatusCode, StopReason, nameOf } from '../protocol/index.js';
import type { CloseReason } from './types.js';

export interface StatusVerdict {
  terminal: boolean;
  closeReason: CloseReason;
  code: ErrorCode;
  name?: string;
}

const SIGNATURE_STATUSES = new Set<number>([StatusCode.STATUS_INVALID_SIGNATURE, StatusCode.STATUS_SIGNATURE_NOT_EXIST]);
/** The stream is gone or never existed: retrying cannot help. */
const GONE_STATUSES = new Set<number>([
  StatusCode.STATUS_STREAM_TERMINATED,
  StatusCode.STATUS_MEETING_NOT_FOUND,
  StatusCode.STATUS_MEETING_UUID_NOT_EXIST,
  StatusCode.STATUS_RTMS_STREAM_ID_NOT_EXIST,
  StatusCode.STATUS_STREAM_ID_NOT_EXIST,
]);
/** Our request was malformed: the same request will fail again. */
const REQUEST_STATUSES = new Set<number>([
  StatusCode.STATUS_INVALID_JSON_MSG_SIZE,
  StatusCode.STATUS_INVALID_JSON_MSG,
  StatusCode.STATUS_INVALID_MESSAGE_TYPE,
  StatusCode.STATUS_MSG_TYPE_NOT_EXIST,
  StatusCode.STATUS_MSG_TYPE_NOT_UINT,
  StatusCode.STATUS_INVALID_PROTOCOL_VERSION,
  StatusCode.STATUS_SEQUENCE_NOT_EXIST,
  StatusCode.STATUS_INVALID_MEDIA_TYPE,
  StatusCode.STATUS_MEDIA_PARAMS_NOT_EXIST,
  StatusCode.STATUS_INVALID_MEDIA_PARAMS,
]);

/** Classifies a non-zero handshake `status_code`. Unknown codes are retried. */
export function classifyHandshakeStatus(status: number): StatusVerdict {
  const name = nameOf(StatusCode, status) as string | undefined;
  if (SIGNATURE_STATUSES.has(status)) return { terminal: true, closeReason: 'signature-rejected', code: 'RTMS_SIGNATURE_REJECTED', name };
  if (GONE_STATUSES.has(status)) return { terminal: true, closeReason: 'stream-terminated', code: 'RTMS_STREAM_TERMINATED', name };
  if (REQUEST_STATUSES.has(status)) return { terminal: true, closeReason: 'handshake-failed', code: 'RTMS_HANDSHAKE_FAILED', name };
  return { terminal: false, closeReason: 'handshake-failed', code: 'RTMS_HANDSHAKE_FAILED', name };
}

export interface EndVerdict {
  closeReason: CloseReason;
  code: ErrorCode;
  message: string;
  stopReason?: number;
}

/**
 * Stop reasons that mean another connection took the stream over. Zoom's documentation does not
 * name the signal; INSTANCE_CONNECTION_INTERRUPTED is what our emulator sends (docs/protocol-notes.md).
 */
const TAKEOVER_REASONS = new Set<number>([StopReason.STOP_BC_INSTANCE_CONNECTION_INTERRUPTED]);

/** WebSocket close code that marks a takeover (emulator convention, see above). */
export const TAKEOVER_CLOSE_CODE = 4001;

/** Classifies a TERMINATED stream state / STOPPED session state by its stop reason. */
export function classifyStreamEnd(stopReason: number | undefined): EndVerdict {
  const name = stopReason === undefined ? 'no reason given' : String(nameOf(StopReason, stopReason) ?? `reason ${stopReason}`);
  if (stopReason !== undefined && TAKEOVER_REASONS.has(stopReason)) {
    return { closeReason: 'kicked', code: 'RTMS_KICKED', message: `another connection took over the stream (${name})`, stopReason };
  }
  return { closeReason: 'stream-terminated', code: 'RTMS_STREAM_TERMINATED', message: `stream ended: ${name}`, stopReason };
}
