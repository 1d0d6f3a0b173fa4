/**
 * Chat v2 (July 2026): the `content.data` of MEDIA_DATA_CHAT may be a JSON string holding the message
 * with its operation (new, edit, delete, emoji reactions), id, thread parent, audience, sender,
 * receiver and files. Older servers send the plain text. This parser is pure and never throws: data
 * that is not a v2 object (plain text, malformed JSON, a JSON number) is a plain-text NEW message.
 */
import { ChatOperation, ChatSessionType, nameOf } from './constants.js';

/** What a chat message does to the conversation. */
export type ChatOperationName = 'new' | 'update' | 'delete' | 'reaction_add' | 'reaction_remove' | 'unknown';

const OPERATION_NAMES: Readonly<Record<number, ChatOperationName>> = {
  [ChatOperation.NEW]: 'new',
  [ChatOperation.UPDATE]: 'update',
  [ChatOperation.DELETE]: 'delete',
  [ChatOperation.ADD_EMOJI_REACTION]: 'reaction_add',
  [ChatOperation.REMOVE_EMOJI_REACTION]: 'reaction_remove',
};

/** Wire number of an operation name (for senders such as the emulator). */
export const CHAT_OPERATION_OF: Readonly<Record<Exclude<ChatOperationName, 'unknown'>, number>> = {
  new: ChatOperation.NEW,
  update: ChatOperation.UPDATE,
  delete: ChatOperation.DELETE,
  reaction_add: ChatOperation.ADD_EMOJI_REACTION,
  reaction_remove: ChatOperation.REMOVE_EMOJI_REACTION,
};

export interface ChatPerson {
  userId: number | string;
  userName: string;
}

/** `chat_session`: its type (see {@link ChatSessionType}), the type's name, and any id fields as sent. */
export interface ChatSession {
  type: number;
  /** e.g. `EVERYONE`, `INDIVIDUAL`; absent for a number this version does not know. */
  typeName?: string;
  /** Other fields (group or session ids) exactly as sent. */
  [field: string]: unknown;
}

export interface ChatFile {
  fileId: string;
  fileName?: string;
  fileSize?: number;
  /** Other fields as sent. */
  [field: string]: unknown;
}

export interface ParsedChat {
  /** 2 when `data` was a chat v2 object, 1 for plain text. */
  version: 1 | 2;
  operation: ChatOperationName;
  /** `operation_type` as sent (NEW when absent). */
  operationType: number;
  text: string;
  messageId?: string;
  parentMessageId?: string;
  chatSession?: ChatSession;
  sender?: ChatPerson;
  receiver?: ChatPerson;
  files: ChatFile[];
  deleteFileIds: string[];
  /** The emoji of a reaction operation. */
  emoji?: string;
}

/** Keys that mark a parsed JSON object as a v2 chat payload rather than text that happens to be JSON. */
const V2_KEYS = ['data', 'operation_type', 'message_id', 'chat_session', 'sender'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const idOf = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);

function person(v: unknown): ChatPerson | undefined {
  if (!isObject(v)) return undefined;
  const userId = v.user_id ?? v.userId;
  if (typeof userId !== 'number' && typeof userId !== 'string') return undefined;
  const userName = v.user_name ?? v.userName;
  return { userId, userName: typeof userName === 'string' ? userName : '' };
}

function session(v: unknown): ChatSession | undefined {
  if (!isObject(v) || typeof v.type !== 'number') return undefined;
  const typeName = nameOf(ChatSessionType, v.type);
  return { ...v, type: v.type, ...(typeName ? { typeName: String(typeName) } : {}) };
}

function files(v: unknown): ChatFile[] {
  if (!Array.isArray(v)) return [];
  const out: ChatFile[] = [];
  for (const f of v) {
    if (!isObject(f)) continue;
    const fileId = idOf(f.file_id ?? f.fileId);
    if (!fileId) continue;
    const { file_id: _id, file_name, file_size, ...rest } = f;
    out.push({ ...rest, fileId, ...(typeof file_name === 'string' ? { fileName: file_name } : {}), ...(typeof file_size === 'number' ? { fileSize: file_size } : {}) });
  }
  return out;
}

/**
 * The emoji of a reaction. Zoom's library names no field for it (verify): `emoji`, `reaction` (a string
 * or an object with `emoji`/`name`) are read, then the text.
 */
function emojiOf(o: Record<string, unknown>, text: string): string | undefined {
  for (const v of [o.emoji, o.reaction, o.emoji_reaction]) {
    if (typeof v === 'string' && v) return v;
    if (isObject(v)) {
      const e = v.emoji ?? v.name ?? v.code;
      if (typeof e === 'string' && e) return e;
    }
  }
  return text || undefined;
}

/** The v2 object inside `data`, or undefined when `data` is plain text. */
function v2Object(data: unknown): Record<string, unknown> | undefined {
  if (isObject(data)) return data;
  if (typeof data !== 'string') return undefined;
  const s = data.trimStart();
  if (s[0] !== '{') return undefined; // cheap: plain text never pays for a JSON.parse attempt
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return undefined; // older servers' plain text that merely starts with a brace
  }
  if (!isObject(v)) return undefined;
  for (const k of V2_KEYS) if (k in v) return v;
  return undefined;
}

/** Parses `content.data` of a MEDIA_DATA_CHAT message (string, or an already decoded object). */
export function parseChatData(data: unknown): ParsedChat {
  const o = v2Object(data);
  if (!o) {
    const text = typeof data === 'string' ? data : data === undefined || data === null ? '' : String(data);
    return { version: 1, operation: 'new', operationType: ChatOperation.NEW, text, files: [], deleteFileIds: [] };
  }
  const operationType = typeof o.operation_type === 'number' && Number.isInteger(o.operation_type) ? o.operation_type : ChatOperation.NEW;
  const operation = OPERATION_NAMES[operationType] ?? 'unknown';
  const text = typeof o.data === 'string' ? o.data : o.data === undefined || o.data === null ? '' : JSON.stringify(o.data);
  const messageId = idOf(o.message_id);
  const parentMessageId = idOf(o.parent_message_id);
  const chatSession = session(o.chat_session);
  const sender = person(o.sender);
  const receiver = person(o.receiver);
  const deleteFileIds = Array.isArray(o.delete_file_id_list) ? o.delete_file_id_list.map(idOf).filter((x): x is string => x !== undefined) : [];
  const emoji = operation === 'reaction_add' || operation === 'reaction_remove' ? emojiOf(o, text) : undefined;
  return {
    version: 2,
    operation,
    operationType,
    text,
    ...(messageId ? { messageId } : {}),
    ...(parentMessageId ? { parentMessageId } : {}),
    ...(chatSession ? { chatSession } : {}),
    ...(sender ? { sender } : {}),
    ...(receiver ? { receiver } : {}),
    files: files(o.files),
    deleteFileIds,
    ...(emoji ? { emoji } : {}),
  };
}

/** Builds the v2 `content.data` string (the emulator's side; the inverse of {@link parseChatData}). */
export function formatChatData(m: {
  operation: Exclude<ChatOperationName, 'unknown'>;
  text: string;
  messageId: string;
  parentMessageId?: string;
  chatSession: { type: number; [field: string]: unknown };
  sender: { user_id: number | string; user_name: string };
  receiver?: { user_id: number | string; user_name: string };
  files?: { file_id: string; file_name?: string; file_size?: number }[];
  deleteFileIds?: string[];
  emoji?: string;
}): string {
  return JSON.stringify({
    data: m.text,
    operation_type: CHAT_OPERATION_OF[m.operation],
    message_id: m.messageId,
    ...(m.parentMessageId ? { parent_message_id: m.parentMessageId } : {}),
    chat_session: m.chatSession,
    sender: m.sender,
    ...(m.receiver ? { receiver: m.receiver } : {}),
    files: m.files ?? [],
    ...(m.deleteFileIds?.length ? { delete_file_id_list: m.deleteFileIds } : {}),
    ...(m.emoji ? { emoji: m.emoji } : {}),
  });
}
