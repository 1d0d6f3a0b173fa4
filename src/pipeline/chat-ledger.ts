/**
 * ChatLedger: the final state of a stream's chat. Chat v2 messages are operations — a NEW message,
 * an UPDATE that replaces the text of `messageId`, a DELETE that removes it, emoji reactions added and
 * removed — and whatever is stored or shown must reflect their result. Pure and in memory (chat is
 * rare: a meeting's whole chat fits easily); the recorder and the live feed each keep one.
 */
import type { ChatMessage } from '../client/types.js';
import type { ChatFile, ChatPerson, ChatSession } from '../protocol/index.js';

export interface ChatReaction {
  emoji: string;
  /** Who reacted, in order. */
  users: { userId: string; userName: string }[];
}

export interface ChatEntry {
  /** messageId, or a synthetic key for plain-text chat (which has no id). */
  key: string;
  messageId?: string;
  parentMessageId?: string;
  userId: number | string;
  userName: string;
  text: string;
  timestamp: number;
  chatSession?: ChatSession;
  receiver?: ChatPerson;
  files: ChatFile[];
  reactions: ChatReaction[];
  /** Timestamp of the last edit. */
  editedAt?: number;
}

export type ChatChange =
  | { kind: 'add' | 'update' | 'reaction'; entry: ChatEntry; previousText?: string }
  | { kind: 'delete'; entry: ChatEntry }
  /** Nothing changed (a reaction on an unknown message, a repeated NEW, an unknown operation). */
  | { kind: 'ignored' };

export class ChatLedger {
  readonly #entries = new Map<string, ChatEntry>();
  /** Ids deleted: a NEW delivered again after its DELETE (a replay after a reconnect) stays deleted. */
  readonly #deleted = new Set<string>();
  #plain = 0;

  get size(): number {
    return this.#entries.size;
  }

  get(messageId: string): ChatEntry | undefined {
    return this.#entries.get(messageId);
  }

  /** Applies one message; says what changed. */
  apply(m: ChatMessage): ChatChange {
    const op = m.operation ?? 'new';
    const id = m.messageId;
    if (!id) {
      // Plain-text chat (or v2 without an id): only a NEW means anything.
      if (op !== 'new') return { kind: 'ignored' };
      const entry = this.#entry(`plain-${++this.#plain}`, m);
      this.#entries.set(entry.key, entry);
      return { kind: 'add', entry };
    }
    const existing = this.#entries.get(id);
    switch (op) {
      case 'new': {
        if (existing || this.#deleted.has(id)) return { kind: 'ignored' };
        const entry = this.#entry(id, m);
        this.#entries.set(id, entry);
        return { kind: 'add', entry };
      }
      case 'update': {
        if (this.#deleted.has(id)) return { kind: 'ignored' };
        if (!existing) {
          // An edit of a message sent before this connection: its final text is all there is.
          const entry = { ...this.#entry(id, m), editedAt: m.timestamp };
          this.#entries.set(id, entry);
          return { kind: 'add', entry };
        }
        const previousText = existing.text;
        existing.text = m.text;
        existing.editedAt = m.timestamp;
        const gone = new Set(m.deleteFileIds ?? []);
        existing.files = [...existing.files.filter((f) => !gone.has(f.fileId)), ...(m.files ?? []).filter((f) => !existing.files.some((e) => e.fileId === f.fileId))];
        return { kind: 'update', entry: existing, previousText };
      }
      case 'delete': {
        this.#deleted.add(id);
        if (!existing) return { kind: 'ignored' };
        this.#entries.delete(id);
        return { kind: 'delete', entry: existing };
      }
      case 'reaction_add':
      case 'reaction_remove': {
        if (!existing || !m.emoji) return { kind: 'ignored' };
        const userId = String(m.userId);
        let r = existing.reactions.find((x) => x.emoji === m.emoji);
        if (op === 'reaction_add') {
          if (!r) existing.reactions.push((r = { emoji: m.emoji, users: [] }));
          if (r.users.some((u) => u.userId === userId)) return { kind: 'ignored' };
          r.users.push({ userId, userName: m.userName });
        } else {
          const before = r?.users.length ?? 0;
          if (r) r.users = r.users.filter((u) => u.userId !== userId);
          if (!r || r.users.length === before) return { kind: 'ignored' };
          if (r.users.length === 0) existing.reactions = existing.reactions.filter((x) => x !== r);
        }
        return { kind: 'reaction', entry: existing };
      }
      default:
        return { kind: 'ignored' };
    }
  }

  /** Every message still there, in the order they were first seen. */
  entries(): ChatEntry[] {
    return [...this.#entries.values()];
  }

  /** Restores an entry from its chat.jsonl line (a recording continued after a takeover). */
  load(line: Record<string, unknown>): void {
    const messageId = typeof line.message_id === 'string' ? line.message_id : undefined;
    const entry: ChatEntry = {
      key: messageId ?? `plain-${++this.#plain}`,
      ...(messageId ? { messageId } : {}),
      ...(typeof line.parent_message_id === 'string' ? { parentMessageId: line.parent_message_id } : {}),
      userId: (line.user_id as number | string) ?? 0,
      userName: String(line.user_name ?? ''),
      text: String(line.text ?? ''),
      timestamp: Number(line.timestamp ?? 0),
      ...(line.chat_session ? { chatSession: line.chat_session as ChatSession } : {}),
      ...(line.receiver ? { receiver: fromWirePerson(line.receiver) } : {}),
      files: Array.isArray(line.files) ? (line.files as ChatFile[]) : [],
      reactions: Array.isArray(line.reactions)
        ? (line.reactions as { emoji: string; users: { user_id: string; user_name: string }[] }[]).map((r) => ({ emoji: r.emoji, users: r.users.map((u) => ({ userId: String(u.user_id), userName: u.user_name })) }))
        : [],
      ...(typeof line.edited_at === 'number' ? { editedAt: line.edited_at } : {}),
    };
    this.#entries.set(entry.key, entry);
  }

  #entry(key: string, m: ChatMessage): ChatEntry {
    return {
      key,
      ...(m.messageId ? { messageId: m.messageId } : {}),
      ...(m.parentMessageId ? { parentMessageId: m.parentMessageId } : {}),
      userId: m.userId,
      userName: m.userName,
      text: m.text,
      timestamp: m.timestamp,
      ...(m.chatSession ? { chatSession: m.chatSession } : {}),
      ...(m.receiver ? { receiver: m.receiver } : {}),
      files: [...(m.files ?? [])],
      reactions: [],
    };
  }
}

function fromWirePerson(v: unknown): ChatPerson {
  const o = v as { user_id?: number | string; user_name?: string; userId?: number | string; userName?: string };
  return { userId: o.user_id ?? o.userId ?? 0, userName: o.user_name ?? o.userName ?? '' };
}

/**
 * The chat.jsonl line of an entry (snake_case, like the other recording files). Plain-text chat keeps
 * exactly the line it always had; chat v2 adds its fields when present.
 */
export function chatLine(e: ChatEntry): Record<string, unknown> {
  return {
    timestamp: e.timestamp,
    user_id: e.userId,
    user_name: e.userName,
    text: e.text,
    ...(e.messageId ? { message_id: e.messageId } : {}),
    ...(e.parentMessageId ? { parent_message_id: e.parentMessageId } : {}),
    ...(e.chatSession ? { chat_session: e.chatSession } : {}),
    ...(e.receiver ? { receiver: { user_id: e.receiver.userId, user_name: e.receiver.userName } } : {}),
    ...(e.files.length ? { files: e.files } : {}),
    ...(e.reactions.length ? { reactions: e.reactions.map((r) => ({ emoji: r.emoji, count: r.users.length, users: r.users.map((u) => ({ user_id: u.userId, user_name: u.userName })) })) } : {}),
    ...(e.editedAt !== undefined ? { edited_at: e.editedAt } : {}),
  };
}

/** Whether edits and deletes are kept in an audit record: env `OPENRTMS_CHAT_AUDIT=1` (off by default). */
export function chatAuditFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.OPENRTMS_CHAT_AUDIT?.trim().toLowerCase();
  return v === '1' || v === 'true' || v === 'yes' || v === 'on';
}
