/**
 * Turns raw WebSocket frames into validated messages. Never throws: the result says what was
 * wrong (bad JSON, unknown msg_type, which field failed and what was expected).
 */
import { ProtocolError } from '../errors.js';
import { MsgType, nameOf } from './constants.js';
import { schemas, type AnyMessage, type Message } from './messages.js';
import { describeValue } from './schema.js';

/** Default largest frame we parse. Video frames at FHD stay far below this. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export type ParseResult<T = AnyMessage> = { ok: true; message: T } | { ok: false; error: ProtocolError };

export interface ParseOptions {
  /** Largest accepted frame in bytes; larger frames fail with RTMS_FRAME_TOO_LARGE. */
  maxFrameBytes?: number;
  /** Only these msg_types are accepted (e.g. what a server may send); others fail with RTMS_UNKNOWN_MSG_TYPE. */
  allowed?: ReadonlySet<number>;
}

function fail(code: ProtocolError['code'], message: string, details: Record<string, unknown> = {}): ParseResult<never> {
  return { ok: false, error: new ProtocolError(code, message, details) };
}

/** Validates an already-decoded JSON value as an RTMS message. */
export function validateMessage(value: unknown, options: ParseOptions = {}): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('RTMS_BAD_MESSAGE', `RTMS message must be a JSON object, got ${describeValue(value)}`, {
      field: 'msg_type',
    });
  }
  const msgType = (value as { msg_type?: unknown }).msg_type;
  if (!Number.isInteger(msgType)) {
    return fail('RTMS_BAD_MESSAGE', `msg_type must be an integer, got ${describeValue(msgType)}`, {
      field: 'msg_type',
      expected: 'integer',
      received: describeValue(msgType),
    });
  }
  const schema = (schemas as Record<number, (typeof schemas)[MsgType]>)[msgType as number];
  if (!schema || (options.allowed && !options.allowed.has(msgType as number))) {
    return fail('RTMS_UNKNOWN_MSG_TYPE', `msg_type ${msgType as number} is not expected here`, {
      field: 'msg_type',
      msgType,
    });
  }
  const issue = schema.check(value, '');
  if (issue) {
    const name = String(nameOf(MsgType, msgType as number));
    return fail(
      'RTMS_BAD_MESSAGE',
      `${name}: field "${issue.path}" expected ${issue.expected}, got ${issue.received}`,
      { msgType, field: issue.path, expected: issue.expected, received: issue.received },
    );
  }
  return { ok: true, message: value as AnyMessage };
}

/** Parses one WebSocket text/binary frame. */
export function parseMessage(raw: string | Buffer | ArrayBuffer | Buffer[], options: ParseOptions = {}): ParseResult {
  const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  let text: string;
  if (typeof raw === 'string') {
    if (raw.length > max) return tooLarge(raw.length, max);
    text = raw;
  } else {
    const buf = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    if (buf.length > max) return tooLarge(buf.length, max);
    text = buf.toString('utf8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail('RTMS_BAD_JSON', `frame is not valid JSON: ${(err as Error).message}`, { bytes: text.length });
  }
  return validateMessage(value, options);
}

function tooLarge(size: number, max: number): ParseResult<never> {
  return fail('RTMS_FRAME_TOO_LARGE', `frame of ${size} bytes exceeds the ${max}-byte limit`, { size, max });
}

/** Narrows a parsed message to one msg_type. */
export function isMessage<T extends MsgType>(message: AnyMessage, type: T): message is Message<T> {
  return message.msg_type === type;
}
