import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseFault } from '../../src/emulator/faults.js';
import { compileScenario, demoScenario, loadScenario, validateScenario } from '../../src/emulator/scenario.js';
import { Counters } from '../../src/emulator/summary.js';
import { WebhookSender, validateEndpoint } from '../../src/emulator/webhook-sender.js';
import { meetingUuid, mulberry32 } from '../../src/emulator/rng.js';
import { urlValidationResponse, verifyWebhook } from '../../src/protocol/index.js';
import { loadSpeech } from '../../src/media/assets.js';

describe('fault specs', () => {
  it('parses every documented spec', () => {
    assert.deepEqual(parseFault('drop-signaling@10s'), { kind: 'drop-signaling', spec: 'drop-signaling@10s', atMs: 10_000, durationMs: 0 });
    assert.deepEqual(parseFault('stall@1.5s'), { kind: 'stall', spec: 'stall@1.5s', atMs: 1500, durationMs: 70_000 });
    assert.deepEqual(parseFault('stall@2s:3s'), { kind: 'stall', spec: 'stall@2s:3s', atMs: 2000, durationMs: 3000 });
    assert.deepEqual(parseFault('pause@5s'), { kind: 'pause', spec: 'pause@5s', atMs: 5000, durationMs: 10_000 });
    assert.deepEqual(parseFault('pause@5s:2s'), { kind: 'pause', spec: 'pause@5s:2s', atMs: 5000, durationMs: 2000 });
    assert.deepEqual(parseFault('restart@500ms'), { kind: 'restart', spec: 'restart@500ms', atMs: 500, durationMs: 5000 });
    assert.equal(parseFault('kick@1m').kind, 'kick');
    assert.deepEqual(parseFault('duplicate-webhook:3'), { kind: 'duplicate-webhook', spec: 'duplicate-webhook:3', count: 3 });
    assert.deepEqual(parseFault('webhook-delay:250'), { kind: 'webhook-delay', spec: 'webhook-delay:250', delayMs: 250 });
    assert.deepEqual(parseFault('out-of-order'), { kind: 'out-of-order', spec: 'out-of-order' });
  });
  for (const bad of ['explode@1s', 'drop-media', 'drop-media@soon', 'kick@1s:2s', 'duplicate-webhook:0', 'stall@1s:-2s']) {
    it(`rejects "${bad}" with a message naming it`, () => {
      assert.throws(() => parseFault(bad), (e: Error) => e.message.includes(bad));
    });
  }
});

describe('scenarios', () => {
  it('the demo speaks the bundled lines in order, with chat and a screen share', () => {
    const s = demoScenario(60);
    const spoken = s.timeline.filter((i) => i.type === 'speak').map((i) => i.text);
    const lines = loadSpeech().lines.map((l) => l.text);
    assert.deepEqual(spoken.slice(0, lines.length), lines);
    assert.ok(s.timeline.some((i) => i.type === 'chat'));
    assert.ok(s.timeline.some((i) => i.type === 'share_start'));
    assert.equal(validateScenario(JSON.parse(JSON.stringify(s))).name, 'demo');
  });
  it('the chat v2 example scenario (examples/scenarios/chat-v2.json) is valid: edits, deletes, replies, reactions, private messages, chat groups', () => {
    const plan = compileScenario(loadScenario('examples/scenarios/chat-v2.json'), 1);
    const chat = plan.events.filter((e) => e.kind === 'chat');
    assert.deepEqual([...new Set(chat.map((e) => (e as { operation: string }).operation))].sort(), ['delete', 'new', 'reaction_add', 'update']);
    assert.ok(chat.some((e) => (e as { parentMessageId?: string }).parentMessageId === 'welcome'));
    assert.ok(chat.some((e) => (e as { audience: string }).audience === 'individual'));
    assert.equal(plan.events.filter((e) => e.kind === 'chat_group').length, 4);
  });

  it('scenario chat v2 items are checked with one-line errors', () => {
    const base = { name: 'x', duration_s: 5, participants: [{ user_id: 1, user_name: 'A' }] };
    assert.throws(() => validateScenario({ ...base, timeline: [{ at: 1, type: 'chat', user_id: 1, operation: 'update', text: 'x' }] }), /timeline\[0\] \(chat\) \(update\) needs "message_id"/);
    assert.throws(() => validateScenario({ ...base, timeline: [{ at: 1, type: 'chat', user_id: 1, operation: 'react', message_id: 'm' }] }), /needs "emoji"/);
    assert.throws(() => validateScenario({ ...base, timeline: [{ at: 1, type: 'chat', user_id: 1, text: 'x', to: 9 }] }), /"to" 9 is not a participant/);
    assert.throws(() => validateScenario({ ...base, timeline: [{ at: 1, type: 'chat_group', user_id: 1, group_id: 'g' }] }), /needs "action"/);
    assert.throws(() => validateScenario({ ...base, timeline: [{ at: 1, type: 'chat', user_id: 1, text: 'x', operation: 'edit' }] }), /field "timeline\[0\]\.operation" expected one of new, update, delete, react, unreact/);
  });

  it('the documented example scenario (examples/scenarios/standup.json) is valid and plays both voices', () => {
    const s = loadScenario('examples/scenarios/standup.json');
    const plan = compileScenario(s, 1);
    assert.equal(plan.speeches.length, 2);
    assert.equal(plan.speeches[1].pcm.length, 3 * 16000, 'synthetic line of the given duration');
    assert.throws(() => loadScenario('no-such-file.json'), /neither "demo" nor a readable JSON file/);
  });
  it('validation names the bad field', () => {
    assert.throws(() => validateScenario({ name: 'x', duration_s: 10, participants: [{ user_id: 'a', user_name: 'A' }], timeline: [] }), /participants\[0\]\.user_id/);
    assert.throws(() => validateScenario({ name: 'x', duration_s: 10, participants: [{ user_id: 1, user_name: 'A' }], timeline: [{ at: 1, type: 'sing', user_id: 1 }] }), /timeline\[0\]\.type/);
    assert.throws(() => validateScenario({ name: 'x', duration_s: 10, participants: [{ user_id: 1, user_name: 'A' }], timeline: [{ at: 1, type: 'speak', user_id: 2, text: 'hi' }] }), /not a participant/);
    assert.throws(() => validateScenario({ name: 'x', duration_s: 10, participants: [{ user_id: 1, user_name: 'A' }], timeline: [{ at: 1, type: 'speak', user_id: 1 }] }), /needs "text"/);
  });
  it('synthetic voices are deterministic per seed', () => {
    const s = validateScenario({ name: 'x', duration_s: 5, participants: [{ user_id: 1, user_name: 'A' }], timeline: [{ at: 1, type: 'speak', user_id: 1, text: 'not in the assets', duration: 1 }] });
    const a = compileScenario(s, 7).speeches[0].pcm;
    assert.deepEqual(compileScenario(s, 7).speeches[0].pcm, a);
    assert.notDeepEqual(compileScenario(s, 8).speeches[0].pcm, a);
    assert.equal(a.length, 16000);
  });
  it('meeting UUIDs look like Zoom\'s and are seeded', () => {
    const ids = Array.from({ length: 50 }, ((r) => () => meetingUuid(r))(mulberry32(3)));
    assert.ok(ids.every((id) => /^[A-Za-z0-9+/]{22}==$/.test(id)));
    assert.ok(ids.some((id) => id.includes('/') || id.includes('+')));
    assert.equal(meetingUuid(mulberry32(3)), ids[0]);
  });
});

describe('webhook sender', () => {
  it('signs with the v0 scheme and retries until acknowledged', async () => {
    const seen: boolean[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const ok = verifyWebhook('tok', body, req.headers['x-zm-signature'] as string, req.headers['x-zm-request-timestamp'] as string).ok;
        seen.push(ok);
        res.writeHead(seen.length < 3 ? 500 : 200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const counters = new Counters();
    const sender = new WebhookSender({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`, secretToken: 'tok' }, counters);
    assert.equal(await sender.send({ event: 'meeting.rtms_started', payload: {} }), true);
    server.close();
    assert.deepEqual(seen, [true, true, true]);
    assert.deepEqual(counters.webhooks, { sent: 1, retried: 2, failed: 0 });
  });
  it('runs the endpoint.url_validation challenge', async () => {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const { payload } = JSON.parse(Buffer.concat(chunks).toString());
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(urlValidationResponse('tok', payload.plainToken)));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    assert.equal(await validateEndpoint(url, 'tok'), true);
    assert.equal(await validateEndpoint(url, 'other'), false);
    server.close();
  });
});
