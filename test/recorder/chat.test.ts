import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recorder } from '../../src/recorder/index.js';
import type { ChatMessage } from '../../src/client/types.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'openrtms-chat-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const T0 = 1_760_000_000_000;
const info = (id: string) => ({ rtmsStreamId: id, product: 'meeting' as const, meetingUuid: 'm==', startedAt: T0 });
const msg = (over: Partial<ChatMessage>): ChatMessage => ({ userId: 1, userName: 'Ada', text: '', timestamp: T0, receivedAt: T0, operation: 'new', version: 2, files: [], deleteFileIds: [], ...over });
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('Recorder chat.jsonl: the final state', () => {
  it('shows edited text, drops deleted messages, keeps reactions, thread parents and plain-text chat', async () => {
    const dataDir = tmp();
    const r = new Recorder({ dataDir, info: info('s1'), chatAudit: false });
    r.onChat(msg({ messageId: 'a', text: 'first draft', timestamp: T0 + 1 }));
    r.onChat(msg({ messageId: 'b', text: 'secret', timestamp: T0 + 2 }));
    r.onChat({ userId: 2, userName: 'Grace', text: 'legacy text', timestamp: T0 + 3, receivedAt: T0 + 3 });
    await new Promise((res) => setTimeout(res, 30)); // the appends reach the disk before the edits rewrite it
    r.onChat(msg({ messageId: 'a', operation: 'update', text: 'final text', timestamp: T0 + 4 }));
    r.onChat(msg({ messageId: 'b', operation: 'delete', text: '', timestamp: T0 + 5 }));
    r.onChat(msg({ messageId: 'c', parentMessageId: 'a', text: 'a reply', timestamp: T0 + 6 }));
    r.onChat(msg({ messageId: 'a', operation: 'reaction_add', emoji: '👍', userId: 2, userName: 'Grace', timestamp: T0 + 7 }));
    await r.close();
    const chat = lines(join(r.dir, 'chat.jsonl'));
    assert.deepEqual(chat.map((c) => c.text), ['final text', 'legacy text', 'a reply']);
    assert.equal(readFileSync(join(r.dir, 'chat.jsonl'), 'utf8').includes('secret'), false);
    assert.equal(readFileSync(join(r.dir, 'chat.jsonl'), 'utf8').includes('first draft'), false);
    assert.equal(chat[0].edited_at, T0 + 4);
    assert.deepEqual(chat[0].reactions, [{ emoji: '👍', count: 1, users: [{ user_id: '2', user_name: 'Grace' }] }]);
    assert.equal(chat[2].parent_message_id, 'a');
    assert.deepEqual(chat[1], { timestamp: T0 + 3, user_id: 2, user_name: 'Grace', text: 'legacy text' });
    assert.equal(existsSync(join(r.dir, 'chat-audit.jsonl')), false, 'no audit unless asked for');
  });

  it('keeps an audit of edits and deletes when asked to', async () => {
    const dataDir = tmp();
    const r = new Recorder({ dataDir, info: info('s2'), chatAudit: true });
    r.onChat(msg({ messageId: 'a', text: 'v1' }));
    r.onChat(msg({ messageId: 'a', operation: 'update', text: 'v2', timestamp: T0 + 1 }));
    r.onChat(msg({ messageId: 'a', operation: 'delete', timestamp: T0 + 2 }));
    await r.close();
    assert.deepEqual(lines(join(r.dir, 'chat.jsonl')), []);
    const audit = lines(join(r.dir, 'chat-audit.jsonl'));
    assert.deepEqual(audit.map((a) => [a.operation, a.previous_text]), [['update', 'v1'], ['delete', 'v2']]);
  });

  it('continues the final state after a takeover (resume)', async () => {
    const dataDir = tmp();
    const first = new Recorder({ dataDir, info: info('s3'), chatAudit: false });
    first.onChat(msg({ messageId: 'a', text: 'before the takeover' }));
    await first.close();
    const second = new Recorder({ dataDir, info: { ...info('s3'), resume: true }, chatAudit: false });
    second.onChat(msg({ messageId: 'a', operation: 'update', text: 'edited after', timestamp: T0 + 9 }));
    await second.close();
    assert.deepEqual(lines(join(second.dir, 'chat.jsonl')).map((c) => c.text), ['edited after']);
  });
});

describe('Recorder pauses', () => {
  it('marks each pause in the manifest; its silence is not a gap', async () => {
    const dataDir = tmp();
    const r = new Recorder({ dataDir, info: info('p1') });
    const frame = (ts: number) => ({ userId: 0, userName: '', data: Buffer.alloc(640), timestamp: ts, receivedAt: ts });
    for (let t = 0; t < 1000; t += 20) r.onAudio(frame(T0 + t));
    r.onEvent({ type: 'paused', timestamp: T0 + 1000, data: { source: 'stream' } });
    r.onEvent({ type: 'resumed', timestamp: T0 + 3000, data: { source: 'stream' } });
    for (let t = 3000; t < 4000; t += 20) r.onAudio(frame(T0 + t));
    // A real loss later is still a gap.
    for (let t = 6000; t < 6500; t += 20) r.onAudio(frame(T0 + t));
    await r.close();
    const m = JSON.parse(readFileSync(join(r.dir, 'manifest.json'), 'utf8'));
    assert.deepEqual(m.pauses, [{ start: new Date(T0 + 1000).toISOString(), end: new Date(T0 + 3000).toISOString(), duration_ms: 2000 }]);
    assert.deepEqual(m.gaps.map((g: { atMs: number; durationMs: number }) => [g.atMs, g.durationMs]), [[4000, 2000]]);
    assert.equal(m.files.find((f: { path: string }) => f.path === 'audio/mixed.wav').duration_ms, 6500);
  });
});
