import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  StatusCode,
  ChatOperation,
  ChatSessionType,
  MsgType,
  SERVER_TO_CLIENT,
  eventName,
  formatChatData,
  isChatGroupEvent,
  parseChatData,
  parseMessage,
} from '../../src/protocol/index.js';

/** A chat v2 payload as Zoom's RTMSManager reads it (library/javascript/rtmsManager, July 2026). */
const v2 = (fields: Record<string, unknown>) => JSON.stringify({ data: 'hello', message_id: 'm1', sender: { user_id: 16778240, user_name: 'Ada' }, chat_session: { type: 1 }, ...fields });

describe('MEDIA_DATA_CHAT content.data (chat v2)', () => {
  it('reads a v2 JSON string: text, id, sender, audience, operation NEW', () => {
    const p = parseChatData(v2({ operation_type: 1 }));
    assert.equal(p.version, 2);
    assert.equal(p.operation, 'new');
    assert.equal(p.text, 'hello');
    assert.equal(p.messageId, 'm1');
    assert.deepEqual(p.sender, { userId: 16778240, userName: 'Ada' });
    assert.equal(p.chatSession?.type, ChatSessionType.EVERYONE);
    assert.equal(p.chatSession?.typeName, 'EVERYONE');
  });
  it('keeps plain text from older servers as a NEW message', () => {
    const p = parseChatData('Agenda is in the doc.');
    assert.deepEqual(p, { version: 1, operation: 'new', operationType: ChatOperation.NEW, text: 'Agenda is in the doc.', files: [], deleteFileIds: [] });
  });
  it('treats a malformed JSON string as plain text', () => {
    const raw = '{"data": "half a message';
    const p = parseChatData(raw);
    assert.equal(p.version, 1);
    assert.equal(p.text, raw);
  });
  it('treats JSON that is not a chat object (a number, a stray object) as plain text', () => {
    assert.equal(parseChatData('42').text, '42');
    assert.equal(parseChatData('42').version, 1);
    assert.equal(parseChatData('{"a":1}').version, 1);
    assert.equal(parseChatData('{"a":1}').text, '{"a":1}');
  });
  it('accepts an already decoded object', () => {
    assert.equal(parseChatData({ data: 'x', operation_type: 3, message_id: 7 }).messageId, '7');
  });
  it('names every operation', () => {
    const names = [1, 2, 3, 4, 5, 99].map((n) => parseChatData(v2({ operation_type: n })).operation);
    assert.deepEqual(names, ['new', 'delete', 'update', 'reaction_add', 'reaction_remove', 'unknown']);
  });
  it('reads a thread reply, a private message, files and deleted files', () => {
    const p = parseChatData(
      v2({
        parent_message_id: 'm0',
        chat_session: { type: 2, session_id: 's9' },
        receiver: { user_id: 16779264, user_name: 'Grace' },
        files: [{ file_id: 'f1', file_name: 'plan.pdf', file_size: 1024 }, { nope: true }],
        delete_file_id_list: ['f0'],
      }),
    );
    assert.equal(p.parentMessageId, 'm0');
    assert.equal(p.chatSession?.typeName, 'INDIVIDUAL');
    assert.equal(p.chatSession?.session_id, 's9');
    assert.deepEqual(p.receiver, { userId: 16779264, userName: 'Grace' });
    assert.deepEqual(p.files, [{ fileId: 'f1', fileName: 'plan.pdf', fileSize: 1024 }]);
    assert.deepEqual(p.deleteFileIds, ['f0']);
  });
  it('reads the emoji of a reaction', () => {
    assert.equal(parseChatData(v2({ operation_type: 4, emoji: '👍', data: '' })).emoji, '👍');
    assert.equal(parseChatData(v2({ operation_type: 5, data: '🎉' })).emoji, '🎉');
    assert.equal(parseChatData(v2({ operation_type: 1 })).emoji, undefined);
  });
  it('round-trips what the emulator sends', () => {
    const raw = formatChatData({ operation: 'update', text: 'fixed', messageId: 'm2', parentMessageId: 'm1', chatSession: { type: 1 }, sender: { user_id: 1, user_name: 'A' } });
    const p = parseChatData(raw);
    assert.equal(p.operation, 'update');
    assert.equal(p.text, 'fixed');
    assert.equal(p.parentMessageId, 'm1');
  });
  it('validates a chat message whose data is a JSON string or an object', () => {
    const allowed = SERVER_TO_CLIENT;
    assert.equal(parseMessage(JSON.stringify({ msg_type: MsgType.MEDIA_DATA_CHAT, content: { data: v2({}) } }), { allowed }).ok, true);
    assert.equal(parseMessage(JSON.stringify({ msg_type: MsgType.MEDIA_DATA_CHAT, content: { data: { data: 'x' } } }), { allowed }).ok, true);
    assert.equal(parseMessage(JSON.stringify({ msg_type: MsgType.MEDIA_DATA_CHAT, content: { data: 5 } }), { allowed }).ok, false);
  });
});

describe('EVENT_UPDATE types 10–14, read by product', () => {
  it('are chat-group events in meetings, webinars and Video SDK sessions', () => {
    for (const product of ['meeting', 'webinar', 'session'] as const) {
      assert.deepEqual([10, 11, 12, 13, 14].map((n) => eventName(product, n)), ['CHAT_GROUP_CREATE', 'CHAT_GROUP_DELETE', 'CHAT_GROUP_MEMBERS_ADD', 'CHAT_GROUP_MEMBERS_DELETE', 'CHAT_GROUP_MEMBER_STATUS_UPDATE']);
      assert.equal(isChatGroupEvent(product, 12), true);
    }
  });
  it('are call events in Contact Center', () => {
    assert.deepEqual([8, 10, 11, 12, 13, 14].map((n) => eventName('contact_center', n)), ['CONSUMER_ANSWERED', 'USER_ANSWERED', 'USER_END', 'USER_HOLD', 'USER_UNHOLD', 'MONITOR_STARTED']);
    assert.equal(isChatGroupEvent('contact_center', 12), false);
    assert.equal(eventName('contact_center', 3), 'PARTICIPANT_JOIN');
  });
  it('keeps the meeting meanings below 10', () => {
    assert.equal(eventName('meeting', 1), 'FIRST_PACKET_TIMESTAMP');
    assert.equal(eventName('meeting', 7), 'MEDIA_CONNECTION_INTERRUPTED');
    assert.equal(eventName('meeting', 8), 'PARTICIPANT_VIDEO_ON');
    assert.equal(eventName('meeting', 99), undefined);
  });
  it('accepts chat-group fields on the event', () => {
    const raw = JSON.stringify({ msg_type: 6, event: { event_type: 12, chat_groups: [{ chat_group_id: 'g1' }], members_update_list: [{ user_id: 1 }] } });
    assert.equal(parseMessage(raw, { allowed: SERVER_TO_CLIENT }).ok, true);
  });
});

describe('July 2026 status codes', () => {
  it('46 rejects a transcript target language, 47 a missing chat session key', () => {
    assert.equal(StatusCode.INVALID_MEDIA_TRANSCRIPT_TARGET_LANGUAGE, 46);
    assert.equal(StatusCode.CHAT_SESSION_KEY_NOT_AVAILABLE, 47);
  });
  it('VIDEO_SUBSCRIPTION_RESP carries subscribe', () => {
    const r = parseMessage(JSON.stringify({ msg_type: 29, status_code: 0, user_id: 5, subscribe: false, reason: '' }), { allowed: SERVER_TO_CLIENT });
    assert.equal(r.ok && (r.message as { subscribe?: boolean }).subscribe, false);
  });
});
