/**
 * The client's July 2026 surface against the emulator: typed chat v2, paused/resumed without a
 * reconnect, FIRST_PACKET_TIMESTAMP, VIDEO_SUBSCRIPTION_RESP's `subscribe`, the transcript target
 * language granted (or refused with status 46).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage, PauseEvent } from '../../src/client/types.js';
import { toChatMessage, toTranscriptFrame } from '../../src/client/content.js';
import { runEmulated } from '../helpers/harness.js';

describe('client: chat v2 and transcript content', () => {
  it('types a v2 chat message and keeps text/userId/userName from the sender', () => {
    const m = toChatMessage({ user_id: 0, data: JSON.stringify({ data: 'hi', operation_type: 3, message_id: 'x', sender: { user_id: 5, user_name: 'Eve' }, chat_session: { type: 2 } }), timestamp: 10 }, 20);
    assert.equal(m.operation, 'update');
    assert.equal(m.text, 'hi');
    assert.equal(m.userId, 5);
    assert.equal(m.userName, 'Eve');
    assert.equal(m.chatSession?.typeName, 'INDIVIDUAL');
  });
  it('plain text keeps the content user fields', () => {
    const m = toChatMessage({ user_id: 7, user_name: 'Bo', data: 'hello' }, 20);
    assert.deepEqual([m.operation, m.version, m.userId, m.userName, m.text, m.timestamp], ['new', 1, 7, 'Bo', 'hello', 20]);
  });
  it('keeps the transcript attribute and the granted target language', () => {
    const t = toTranscriptFrame({ data: 'hola', attribute: { is_final: true } }, 1, 28);
    assert.deepEqual(t.attribute, { is_final: true });
    assert.equal(t.targetLanguage, 28);
    assert.equal('attribute' in toTranscriptFrame({ data: 'x' }, 1, undefined), false);
  });
});

describe('client against the emulator', () => {
  it('pauses and resumes without reconnecting; first packet and chat v2 typed; the demo chat story arrives', async () => {
    const seen: { paused: PauseEvent[]; resumed: PauseEvent[]; chat: ChatMessage[]; firstPacket: number[]; events: number[] } = { paused: [], resumed: [], chat: [], firstPacket: [], events: [] };
    const { joined, summary } = await runEmulated(
      { durationS: 6.5, faults: ['pause@4.8s:1s'], keepAliveIntervalMs: 100 },
      { keepAliveToleranceMs: { signaling: 600, media: 600 } },
      {
        onJoined: (j) => {
          j.client.on('paused', (e) => seen.paused.push(e));
          j.client.on('resumed', (e) => seen.resumed.push(e));
          j.client.on('chat', (c) => seen.chat.push(c));
          j.client.on('firstPacket', (e) => seen.firstPacket.push(e.timestamp));
          j.client.on('event', (e) => seen.events.push(e.event_type));
        },
      },
    );
    const client = joined[0].client;
    assert.equal(client.stats.reconnects, 0);
    assert.equal(seen.paused.length, 1, 'one paused event for the stream and session updates together');
    assert.equal(seen.resumed.length, 1);
    assert.ok(seen.resumed[0].timestamp - seen.paused[0].timestamp >= 900);
    assert.equal(seen.firstPacket.length, 1);
    assert.equal(summary.faults[0].client_recovered, true);
    // Demo chat v2: an edit, a delete, a reaction, a thread reply, a private message.
    const ops = new Set(seen.chat.map((c) => c.operation));
    for (const op of ['new', 'update', 'delete', 'reaction_add'] as const) assert.ok(ops.has(op), `demo sends ${op}`);
    assert.ok(seen.chat.some((c) => c.parentMessageId === 'demo-welcome'));
    assert.ok(seen.chat.some((c) => c.chatSession?.type === 2 && c.receiver));
    for (const t of [10, 12, 14]) assert.ok(seen.events.includes(t), `chat-group event ${t}`);
  });

  it('VIDEO_SUBSCRIPTION_RESP says whether the participant is subscribed now', async () => {
    let results: { subscribed: boolean; statusCode: number }[] = [];
    await runEmulated({ durationS: 2 }, {}, {
      onJoined: (j) => {
        j.client.on('videoSubscription', (e) => results.push({ subscribed: e.subscribed, statusCode: e.statusCode }));
        j.client.once('joined', async () => {
          const user = 16778240;
          const first = await j.client.subscribeVideo(user, true).catch(() => undefined);
          if ((first as { status_code?: number } | undefined)?.status_code === 0) await j.client.subscribeVideo(user, false).catch(() => undefined);
          else results = [{ subscribed: false, statusCode: -1 }];
        });
      },
    });
    assert.deepEqual(results, [{ subscribed: true, statusCode: 0 }, { subscribed: false, statusCode: 0 }]);
  });

  it('a transcript target language is granted and stored on segments; an invalid one is refused with status 46', async () => {
    const scenario = { name: 'short', duration_s: 2, participants: [{ user_id: 1, user_name: 'A', video: false }], timeline: [{ at: 0.1, type: 'speak' as const, user_id: 1, text: 'hola a todos', duration: 0.5 }] };
    const ok = await runEmulated({ scenario }, { media: ['audio', 'transcript'], transcript: { target_language: 28 } });
    assert.equal(ok.joined[0].client.grantedMediaParams.transcript?.target_language, 28);
    assert.ok(ok.joined[0].transcripts.length > 0 && ok.joined[0].transcripts.every((t) => t.targetLanguage === 28));
    // A request failure in Zoom's library table: terminal, no retry.
    const bad = await runEmulated({ scenario, waitForClientMs: 1000 }, { media: ['audio', 'transcript'], transcript: { target_language: -1 }, reconnect: { maxAttempts: 1, initialDelayMs: 20 }, joinTimeoutMs: 1500 });
    const closed = await bad.joined[0].closed;
    assert.equal(closed.reason, 'handshake-failed');
    assert.equal(closed.error?.details.status, 46);
    assert.equal(bad.joined[0].client.stats.reconnects, 0);
  });
});
