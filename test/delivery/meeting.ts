/** Shared by the delivery end-to-end tests: a serve runtime with one webhook destination, an emulated meeting, and the check of everything it must deliver. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { openStore } from '../../src/store/open.js';
import { createRuntime, type Runtime } from '../../src/server/runtime.js';
import { ChatLedger, chatLine } from '../../src/pipeline/chat-ledger.js';
import type { ChatMessage } from '../../src/client/types.js';
import type { EmulatorSummary } from '../../src/emulator/index.js';
import type { WebhookTuning } from '../../src/delivery/webhook.js';
import type { Receiver } from './receiver.js';

/** Closed by the test file's `after`, in reverse order. */
export const cleanups: (() => unknown)[] = [];
const quiet = { info() {}, warn() {}, error() {} };
const creds = { clientId: 'dlv-client', clientSecret: 'dlv-secret', secretToken: 'dlv-token' };

export async function serveWith(rx: Receiver, tuning: WebhookTuning = { initialBackoffMs: 100, maxBackoffMs: 1000, pollMs: 50 }): Promise<{ runtime: Runtime; url: string; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-dlv-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const store = await openStore({ dataDir, databaseUrl: null });
  const runtime = createRuntime({
    ...creds,
    webhookPath: '/webhook',
    store,
    dataDir,
    logger: quiet,
    destinations: [{ type: 'webhook', name: 'crm', url: rx.url, secret: rx.secret, maxAgeHours: 24, timeoutMs: 500 }],
    deliveryTuning: tuning,
  });
  const { url } = await runtime.app.listen(0, '127.0.0.1');
  cleanups.push(() => runtime.shutdown());
  return { runtime, url, dataDir };
}

export async function meeting(url: string, seconds: number): Promise<{ emu: Emulator; summary: EmulatorSummary; id: string }> {
  const scenario = demoScenario(seconds);
  // One more participant who leaves: participant.left must go out too.
  scenario.participants.push({ user_id: 990, user_name: 'Guest', join_at: 0.5, leave_at: seconds / 2 });
  const emu = new Emulator({ ...creds, webhookUrl: `${url}/webhook`, product: 'meeting', scenario, seed: 7, faults: [`pause@${Math.round(seconds * 300)}ms:600ms`] });
  await emu.start();
  cleanups.push(() => emu.close());
  const summary = await emu.run();
  return { emu, summary, id: emu.streams[0].id.rtmsStreamId };
}

export function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(join(d, e.name)) : out.push(relative(dir, join(d, e.name)).split(sep).join('/'));
  };
  walk(dir);
  return out.sort();
}

/** Everything the meeting should have produced, checked against what the receiver got. */
export async function checkMeeting(rx: Receiver, runtime: Runtime, dataDir: string, id: string, waitMs = 15_000): Promise<Record<string, number>> {
  const dir = join(dataDir, 'recordings', id);
  await rx.waitFor(() => rx.unique().some((r) => r.type === 'stream.stopped'), waitMs, 'stream.stopped');
  // recording.ready once per file, after the pipeline closed
  await rx.waitFor(() => rx.unique().filter((r) => r.type === 'recording.ready').length === files(dir).length, waitMs, 'recording.ready per file');
  assert.equal(rx.badSignatures, 0);
  const events = rx.unique().filter((r) => r.stream.rtmsStreamId === id);
  const byType: Record<string, number> = {};
  for (const e of events) byType[e.type] = (byType[e.type] ?? 0) + 1;
  for (const e of events) {
    assert.match(e.id, /^evt_[0-9a-f]{32}$/);
    assert.equal(e.headers['x-openrtms-event-id'], e.id);
    assert.equal(e.stream.product, 'meeting');
  }
  // Per-stream order: the first copy of each event arrived in the order it happened.
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'stream.started');
  const stopped = types.indexOf('stream.stopped');
  assert.ok(types.slice(0, stopped).every((t) => t !== 'recording.ready'), 'recordings after the stop');
  assert.ok(types.slice(stopped + 1).every((t) => t === 'recording.ready'), 'nothing but recording.ready after the stop');
  const tr = events.filter((e) => e.type === 'transcript.segment');
  assert.deepEqual(tr.map((e) => e.data.timestamp), [...tr.map((e) => e.data.timestamp)].sort((a, b) => a - b), 'transcript in order');
  assert.equal(types.indexOf('stream.paused') < types.indexOf('stream.resumed'), true);
  assert.equal(byType['stream.paused'], 1);
  assert.equal(byType['stream.resumed'], 1);
  // transcript.jsonl lines = transcript.segment events
  const lines = readFileSync(join(dir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.length > 0);
  assert.deepEqual(tr.map((e) => [e.data.source, String(e.data.userId), e.data.userName, e.data.text, e.data.startTime, e.data.endTime]), lines.map((l) => ['zoom', String(l.user_id), l.user_name, l.text, l.start_time, l.end_time]));
  // The chat's final state, rebuilt from chat.message events, is chat.jsonl.
  const ledger = new ChatLedger();
  const chats = events.filter((e) => e.type === 'chat.message');
  assert.ok(chats.some((c) => c.data.operation === 'update') && chats.some((c) => c.data.operation === 'delete'), 'edits and deletes are delivered with their operation');
  for (const c of chats) ledger.apply({ ...(c.data as Omit<ChatMessage, 'receivedAt'>), receivedAt: 0 });
  const chatFile = readFileSync(join(dir, 'chat.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  // Events carry user ids as strings (as the API does); the files keep Zoom's numbers.
  const norm = (v: unknown) => JSON.parse(JSON.stringify(v, (k, x) => (k === 'user_id' ? String(x) : x)));
  assert.deepEqual(norm(ledger.entries().map(chatLine)), norm(chatFile));
  // participants: one joined per participant, Guest left
  const joined = events.filter((e) => e.type === 'participant.joined').map((e) => e.data.userName);
  assert.ok(joined.includes('Guest'));
  assert.equal(new Set(joined).size, joined.length);
  assert.deepEqual(events.filter((e) => e.type === 'participant.left').map((e) => e.data.userName), ['Guest']);
  // recording.ready: every file, sha256 and size equal to the file on disk, URL served by the API
  const ready = events.filter((e) => e.type === 'recording.ready');
  assert.deepEqual(ready.map((e) => e.data.path).sort(), files(dir));
  for (const r of ready) {
    const bytes = readFileSync(join(dir, r.data.path));
    assert.equal(r.data.sha256, createHash('sha256').update(bytes).digest('hex'), r.data.path);
    assert.equal(r.data.bytes, statSync(join(dir, r.data.path)).size);
    assert.equal(r.data.url, `/api/streams/${encodeURIComponent(id)}/files/${r.data.path}`);
  }
  // The API agrees: nothing queued (the last answer may still be on its way back), nothing failed.
  await rx.waitFor(() => runtime.delivery.list()[0].stats.queued === 0, 3000, 'an empty queue');
  const api = runtime.delivery.list();
  assert.equal(api[0].name, 'crm');
  assert.equal(api[0].stats.queued, 0);
  assert.equal(api[0].stats.failed, 0);
  assert.ok(api[0].stats.delivered >= events.length);
  return byType;
}

