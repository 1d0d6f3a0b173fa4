/**
 * Media content of the rare text messages (transcript, chat) turned into the client's typed events.
 * Kept out of the socket code: chat v2 parsing belongs to protocol/chat.ts, this only maps fields.
 */
import { parseChatData, type ChatContent, type MediaContent } from '../protocol/index.js';
import type { ChatMessage, TranscriptFrame } from './types.js';

export function toChatMessage(c: ChatContent, now: number): ChatMessage {
  const p = parseChatData(c.data);
  // Chat v2 names the sender inside the payload; the content's own user fields are the fallback.
  const userId = p.sender?.userId ?? c.user_id ?? 0;
  const userName = p.sender?.userName || c.user_name || '';
  return {
    userId,
    userName,
    text: p.text,
    timestamp: c.timestamp ?? now,
    receivedAt: now,
    operation: p.operation,
    version: p.version,
    ...(p.messageId ? { messageId: p.messageId } : {}),
    ...(p.parentMessageId ? { parentMessageId: p.parentMessageId } : {}),
    ...(p.chatSession ? { chatSession: p.chatSession } : {}),
    ...(p.sender ? { sender: p.sender } : {}),
    ...(p.receiver ? { receiver: p.receiver } : {}),
    files: p.files,
    deleteFileIds: p.deleteFileIds,
    ...(p.emoji ? { emoji: p.emoji } : {}),
  };
}

export function toTranscriptFrame(c: MediaContent, now: number, targetLanguage: number | undefined): TranscriptFrame {
  return {
    userId: c.user_id ?? 0,
    userName: c.user_name ?? '',
    text: c.data,
    timestamp: c.timestamp ?? now,
    startTime: c.start_time,
    endTime: c.end_time,
    language: c.language,
    ...(c.attribute !== undefined ? { attribute: c.attribute } : {}),
    ...(targetLanguage !== undefined ? { targetLanguage } : {}),
    receivedAt: now,
  };
}
