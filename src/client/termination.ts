/**
 * Which failures end a client for good and which are worth a reconnect. Pure tables over the
 * protocol constants, so the policy is in one place and testable without sockets.
 */
import type { ErrorCode } from '../errors.js';
import { StatusCode, StopReason, nameOf, statusCategory } from '../protocol/index.js';
import type { CloseReason } from './types.js';

export interface StatusVerdict {
  terminal: boolean;
  closeReason: CloseReason;
  code: ErrorCode;
  name?: string;
  /** Status 8: the server still holds our previous signaling connection; retried on Zoom's 1.5 s schedule. */
  duplicateSignal?: boolean;
}

/**
 * Classifies a non-zero handshake `status_code` by its category (Zoom's library table, PROTOCOL.md
 * §4): a bad signature, a gone stream and a malformed or unsupported request fail the same way
 * again and end the client; connection conflicts (8, 15, 16) and server-side trouble are retried.
 */
export function classifyHandshakeStatus(status: number): StatusVerdict {
  const name = nameOf(StatusCode, status) as string | undefined;
  switch (statusCategory(status)) {
    case 'auth':
      return { terminal: true, closeReason: 'signature-rejected', code: 'RTMS_SIGNATURE_REJECTED', name };
    case 'stream':
      return { terminal: true, closeReason: 'stream-terminated', code: 'RTMS_STREAM_TERMINATED', name };
    case 'request':
    case 'media':
      return { terminal: true, closeReason: 'handshake-failed', code: 'RTMS_HANDSHAKE_FAILED', name };
    case 'connection':
      return { terminal: false, closeReason: 'handshake-failed', code: 'RTMS_HANDSHAKE_FAILED', name, duplicateSignal: status === StatusCode.DUPLICATE_SIGNAL_REQUEST };
    default:
      return { terminal: false, closeReason: 'handshake-failed', code: 'RTMS_HANDSHAKE_FAILED', name };
  }
}

export interface EndVerdict {
  closeReason: CloseReason;
  code: ErrorCode;
  message: string;
  stopReason?: number;
}

/**
 * Stop reasons that mean another connection took the stream over. Zoom's documentation does not
 * name the signal; INSTANCE_CONNECTION_INTERRUPTED is what our emulator's `kick` fault sends
 * (docs/protocol-notes.md).
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
