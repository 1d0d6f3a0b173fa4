/**
 * What both stores do with a chat operation, apart from SQL: the extra columns of a message and the
 * reaction list after a reaction is added or removed. Pure.
 */
import type { ChatAuditRecord, ChatReactionRecord, ChatRecord, NewChatMessage } from './types.js';

/** JSON of the v2 fields that have no column of their own (audience, receiver, files); null when none. */
export function chatExtra(c: Pick<NewChatMessage, 'chatSession' | 'receiver' | 'files'>): string | null {
  const extra: Record<string, unknown> = {};
  if (c.chatSession) extra.chatSession = c.chatSession;
  if (c.receiver) extra.receiver = { userId: String(c.receiver.userId), userName: c.receiver.userName };
  if (c.files?.length) extra.files = c.files;
  return Object.keys(extra).length ? JSON.stringify(extra) : null;
}

/** Files of an edit: the message's files minus `deleteFileIds`, plus new ones. */
export function editedExtra(previous: unknown, c: NewChatMessage): string | null {
  const before = parseJson(previous) as { chatSession?: Record<string, unknown>; receiver?: { userId: string; userName: string }; files?: Record<string, unknown>[] } | undefined;
  const gone = new Set(c.deleteFileIds ?? []);
  const files = [...(before?.files ?? []).filter((f) => !gone.has(String(f.fileId))), ...(c.files ?? []).filter((f) => !(before?.files ?? []).some((b) => b.fileId === f.fileId))];
  return chatExtra({ chatSession: before?.chatSession ?? c.chatSession, receiver: before?.receiver ?? c.receiver, files });
}

/** The reactions after `c` (a reaction operation); undefined when nothing changed. */
export function nextReactions(stored: unknown, c: NewChatMessage): ChatReactionRecord[] | undefined {
  if (!c.emoji) return undefined;
  const list = ((parseJson(stored) as ChatReactionRecord[] | undefined) ?? []).map((r) => ({ ...r, users: [...r.users] }));
  const userId = String(c.userId);
  let r = list.find((x) => x.emoji === c.emoji);
  if (c.operation === 'reaction_add') {
    if (!r) list.push((r = { emoji: c.emoji, count: 0, users: [] }));
    if (r.users.some((u) => u.userId === userId)) return undefined;
    r.users.push({ userId, userName: c.userName });
  } else {
    if (!r || !r.users.some((u) => u.userId === userId)) return undefined;
    r.users = r.users.filter((u) => u.userId !== userId);
  }
  for (const x of list) x.count = x.users.length;
  return list.filter((x) => x.count > 0);
}

/** A stored row's v2 fields as a ChatRecord's optional fields (absent ones left out). */
export function chatRecordExtras(row: { message_id?: unknown; parent_message_id?: unknown; extra?: unknown; reactions?: unknown; edited_at?: unknown }): Partial<ChatRecord> {
  const extra = parseJson(row.extra) as { chatSession?: Record<string, unknown>; receiver?: { userId: string; userName: string }; files?: Record<string, unknown>[] } | undefined;
  const reactions = parseJson(row.reactions) as ChatReactionRecord[] | undefined;
  return {
    ...(row.message_id != null ? { messageId: String(row.message_id) } : {}),
    ...(row.parent_message_id != null ? { parentMessageId: String(row.parent_message_id) } : {}),
    ...(extra?.chatSession ? { chatSession: extra.chatSession } : {}),
    ...(extra?.receiver ? { receiver: extra.receiver } : {}),
    ...(extra?.files?.length ? { files: extra.files } : {}),
    ...(reactions?.length ? { reactions } : {}),
    ...(row.edited_at != null ? { editedAt: Number(row.edited_at) } : {}),
  };
}

/** The transcript attribute as stored (JSON text: any value survives), or null. */
export function attributeText(v: unknown): string | null {
  return v === undefined ? null : JSON.stringify(v);
}

/** PostgreSQL returns JSONB already parsed; SQLite returns text. */
function parseJson(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

/** A stored `chat_audit` row as a ChatAuditRecord (SQLite and PostgreSQL share the columns). */
export function chatAuditOfRow(r: Record<string, unknown>): ChatAuditRecord {
  return {
    messageId: String(r.message_id),
    operation: r.operation as ChatAuditRecord['operation'],
    ...(r.user_id != null ? { userId: String(r.user_id) } : {}),
    ...(r.user_name != null ? { userName: String(r.user_name) } : {}),
    ...(r.text != null ? { text: String(r.text) } : {}),
    ...(r.previous_text != null ? { previousText: String(r.previous_text) } : {}),
    timestamp: Number(r.ts),
  };
}
