/**
 * The July 2026 protocol additions end to end: the emulator (chat v2 on the wire, pause fault) against
 * the real serve runtime (webhook → registry → client → recorder, store, live feed), then what every
 * reader sees: chat.jsonl, GET /api/streams/:id/chat, GET /api/search, the store, the live feed,
 * manifest.json and events.jsonl.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Emulator } from '../../src/emulator/index.js';
import type { Scenario } from '../../src/emulator/scenario.js';
import type { EmulatorSummary } from '../../src/emulator/summary.js';
import type { LiveMessage } from '../../src/live/types.js';
import { parseWav } from '../../src/media/wav.js';
import { CREDS, TOKEN, cleanupDirs, startServe, type Serve } from '../chaos/helpers.js';

after(cleanupDirs);

const ADA = 16778240;
const GRACE = 16779264;

/** A short meeting whose chat is edited, deleted, replied to and reacted to (chat v2). */
function chatScenario(): Scenario {
  return {
    name: 'chat-v2',
    duration_s: 3,
    participants: [
      { user_id: ADA, user_name: 'Ada', video: false },
      { user_id: GRACE, user_name: 'Grace', video: false },
    ],
    timeline: [
      { at: 0.2, type: 'speak', user_id: ADA, text: 'Good morning, this is the weekly sync', duration: 1 },
      { at: 0.3, type: 'chat', user_id: ADA, message_id: 'gone', text: 'the walrus plan is attached' },
      { at: 0.4, type: 'chat', user_id: GRACE, message_id: 'kept', text: 'keep the otter budget' },
      { at: 0.8, type: 'chat', user_id: ADA, operation: 'update', message_id: 'gone', text: 'the narwhal plan is attached' },
      { at: 1.0, type: 'chat', user_id: GRACE, operation: 'update', message_id: 'kept', text: 'keep the beaver budget' },
      { at: 1.2, type: 'chat', user_id: ADA, message_id: 'reply', parent_message_id: 'kept', text: 'agreed on the beaver' },
      { at: 1.3, type: 'chat', user_id: ADA, operation: 'react', message_id: 'kept', emoji: '👍' },
      { at: 1.4, type: 'chat', user_id: GRACE, message_id: 'dm', to: ADA, text: 'psst, lunch later?' },
      { at: 1.8, type: 'chat', user_id: ADA, operation: 'delete', message_id: 'gone' },
    ],
  };
}

async function run(serve: Serve, scenario: Scenario, faults: string[] = []): Promise<{ emulator: Emulator; summary: EmulatorSummary }> {
  const emulator = new Emulator({ ...CREDS, secretToken: TOKEN, webhookUrl: serve.webhookUrl, scenario, seed: 3, meetings: 1, faults, keepAliveIntervalMs: 200, recordSent: true });
  try {
    await emulator.start();
    const final = await emulator.run();
    await serve.settled();
    return { emulator, summary: emulator.summary(final.duration_s, final.completed) };
  } finally {
    await emulator.close();
  }
}

const getJson = async (url: string) => {
  const r = await fetch(url);
  assert.equal(r.status, 200, url);
  return (await r.json()) as Record<string, any>;
};
const jsonl = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);

describe('chat v2 end to end', () => {
  it('a message sent, edited and deleted ends edited, then gone everywhere; an edit survives with its new text; a reply keeps its parent', async () => {
    const serve = await startServe();
    const live: LiveMessage[] = [];
    const sub = serve.runtime.bus.subscribe({ types: ['chat'], deliver: (batch) => void live.push(...batch) });
    try {
      const { emulator, summary } = await run(serve, chatScenario());
      const id = emulator.streams[0].id.rtmsStreamId;
      assert.equal(summary.sent.chat, 8, 'every chat operation went on the wire');

      // Recording: chat.jsonl is the final state.
      const file = jsonl(join(serve.dataDir!, 'recordings', id, 'chat.jsonl'));
      assert.deepEqual(file.map((c) => [c.message_id, c.text]), [['kept', 'keep the beaver budget'], ['reply', 'agreed on the beaver'], ['dm', 'psst, lunch later?']]);
      assert.equal(file[1].parent_message_id, 'kept');
      assert.deepEqual(file[0].reactions.map((r: { emoji: string; count: number }) => [r.emoji, r.count]), [['👍', 1]]);
      assert.equal(file[2].chat_session.type, 2);
      assert.deepEqual(file[2].receiver, { user_id: ADA, user_name: 'Ada' });
      const raw = readFileSync(join(serve.dataDir!, 'recordings', id, 'chat.jsonl'), 'utf8');
      for (const word of ['walrus', 'narwhal', 'otter']) assert.ok(!raw.includes(word), `chat.jsonl has no trace of "${word}"`);

      // API.
      const { chat } = await getJson(`${serve.url}/api/streams/${id}/chat`);
      assert.deepEqual(chat.map((c: { messageId: string; text: string }) => [c.messageId, c.text]), [['kept', 'keep the beaver budget'], ['reply', 'agreed on the beaver'], ['dm', 'psst, lunch later?']]);
      assert.equal(chat[1].parentMessageId, 'kept');
      assert.equal(typeof chat[0].editedAt, 'number');
      assert.deepEqual(chat[0].reactions, [{ emoji: '👍', count: 1, users: [{ userId: String(ADA), userName: 'Ada' }] }]);
      assert.deepEqual(chat[2].receiver, { userId: String(ADA), userName: 'Ada' });

      // Search (API and store): the deleted message is not found by its first or its edited text; the edit by its new text only.
      for (const q of ['walrus', 'narwhal', 'otter']) assert.deepEqual((await getJson(`${serve.url}/api/search?q=${q}`)).hits, [], q);
      assert.deepEqual((await getJson(`${serve.url}/api/search?q=beaver%20budget`)).hits.map((h: { text: string; kind: string }) => [h.kind, h.text]), [['chat', 'keep the beaver budget']]);
      assert.deepEqual((await serve.store.chat(id)).map((c) => c.text), ['keep the beaver budget', 'agreed on the beaver', 'psst, lunch later?']);

      // Live feed: viewers were told to add, then update, then remove the message.
      const ops = live.filter((m): m is Extract<LiveMessage, { type: 'chat' }> => m.type === 'chat' && m.messageId === 'gone').map((m) => [m.operation, m.text]);
      assert.deepEqual(ops, [['new', 'the walrus plan is attached'], ['update', 'the narwhal plan is attached'], ['delete', '']]);
      const kept = live.filter((m): m is Extract<LiveMessage, { type: 'chat' }> => m.type === 'chat' && m.messageId === 'kept').map((m) => m.operation);
      assert.deepEqual(kept, ['new', 'update', 'reaction']);
    } finally {
      sub.close();
      await serve.shutdown();
    }
  });

  it('a legacy (plain-text) scenario still records its chat as text', async () => {
    const serve = await startServe();
    try {
      const s = chatScenario();
      s.chat_format = 'legacy';
      const { emulator, summary } = await run(serve, s);
      const id = emulator.streams[0].id.rtmsStreamId;
      assert.equal(summary.sent.chat, 4, 'legacy servers send new messages only');
      const sent = emulator.streams[0].sentLog.filter((r) => r.kind === 'chat').map((r) => JSON.parse(r.message).content.data);
      assert.equal(sent[0], 'the walrus plan is attached', 'plain text on the wire');
      assert.deepEqual((await serve.store.chat(id)).map((c) => [c.text, c.messageId]), [
        ['the walrus plan is attached', undefined],
        ['keep the otter budget', undefined],
        ['agreed on the beaver', undefined],
        ['psst, lunch later?', undefined],
      ]);
    } finally {
      await serve.shutdown();
    }
  });
});

describe('pause@T:D end to end', () => {
  it('the client stays connected; the pause is in the manifest, events.jsonl and the API; no media missed; media resumes', async () => {
    const serve = await startServe();
    try {
      const scenario: Scenario = {
        name: 'pause',
        duration_s: 4,
        participants: [{ user_id: ADA, user_name: 'Ada', video: false }],
        timeline: [{ at: 0.2, type: 'speak', user_id: ADA, text: 'before and after the pause', duration: 3.5 }],
      };
      // 1.5 s of pause is longer than the client's 800 ms keep-alive tolerance: only the keep-alives keep it alive.
      const { emulator, summary } = await run(serve, scenario, ['pause@1s:1500ms']);
      const stream = emulator.streams[0];
      const id = stream.id.rtmsStreamId;
      const entry = serve.runtime.registry.get(id)!;
      assert.equal(entry.client.stats.reconnects, 0, 'a pause is not a reason to reconnect');
      assert.equal(summary.connections.signaling, 1);
      assert.deepEqual(summary.missed, { audio: 0, video: 0, share: 0, transcript: 0, chat: 0, events: 0 }, 'nothing generated while paused counts as missed');
      assert.equal(summary.faults[0].client_recovered, true);

      const audioAt = stream.sentLog.filter((r) => r.kind === 'audio').map((r) => r.at_ms);
      assert.ok(!audioAt.some((t) => t >= 1000 && t < 2500), 'no audio generated during the pause');
      assert.ok(audioAt.filter((t) => t >= 2500).length > 50, 'audio resumed after the pause');

      const dir = join(serve.dataDir!, 'recordings', id);
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      assert.equal(manifest.pauses.length, 1);
      const p = manifest.pauses[0];
      assert.ok(Math.abs(Date.parse(p.end) - Date.parse(p.start) - 1500) <= 40, `pause lasted ${p.duration_ms} ms`);
      assert.equal(p.duration_ms, Date.parse(p.end) - Date.parse(p.start));
      assert.deepEqual(manifest.gaps, [], 'the pause is not a gap');
      assert.equal(typeof manifest.first_packet_at, 'string');
      // The WAV keeps the timeline: silence through the pause, so its duration is the stream's.
      const wavMs = parseWav(readFileSync(join(dir, 'audio', 'mixed.wav'))).samples.length / 16;
      assert.ok(wavMs >= 3900, `mixed.wav lasts the whole stream (${wavMs} ms)`);
      assert.ok(audioAt.length * 20 <= wavMs - 1400, 'it is longer than the audio delivered: the pause is in it as silence');

      const events = jsonl(join(dir, 'events.jsonl'));
      assert.deepEqual(events.filter((e) => e.type === 'paused' || e.type === 'resumed').map((e) => e.type), ['paused', 'resumed']);
      assert.ok(events.some((e) => e.type === 'stream_state' && e.state === 5) && events.some((e) => e.type === 'stream_state' && e.state === 6));

      const detail = await getJson(`${serve.url}/api/streams/${id}`);
      assert.equal(detail.pauses.length, 1);
      assert.ok(detail.pauses[0].end - detail.pauses[0].start >= 1400);
    } finally {
      await serve.shutdown();
    }
  });
});
