/**
 * End to end: emulator → server with an `intelligence` entry pointing at the OpenAI stand-in →
 * live notes during the meeting (live feed), the final summary stored and served, summary.md in the
 * recording (and its manifest), `summary.ready` at a webhook destination, tokens and cost in /metrics,
 * and no PII ever sent.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LiveSummaryMessage } from '../../src/live/types.js';
import { Receiver } from '../delivery/receiver.js';
import { LlmStandin } from './standins.js';
import { PII, runMeeting, serveWithLlm, until } from './meeting.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('notes and summary of an emulated meeting, through the OpenAI-compatible stand-in', () => {
  it('notes update live, the summary is stored, served, written to summary.md, delivered and counted', async () => {
    const llm = await new LlmStandin({ provider: 'openai', apiKey: 'sk-e2e', model: 'gpt-e2e', maxContextTokens: 4000, forbidden: PII }).listen();
    cleanups.push(() => llm.close());
    const rx = new Receiver('llm-hook-secret');
    await rx.listen();
    cleanups.push(() => rx.close());
    const served = await serveWithLlm(
      llm,
      { destinations: [{ type: 'webhook', name: 'crm', url: rx.url, secret: rx.secret, maxAgeHours: 24, timeoutMs: 2000, events: ['summary.ready'] }], deliveryTuning: { initialBackoffMs: 100, maxBackoffMs: 1000, pollMs: 50 } },
      { maxContextTokens: 4000, pricing: { inputPerMillion: 2.5, outputPerMillion: 10 } },
    );
    cleanups.push(() => served.close());
    const { runtime, url, dataDir } = served;
    const live: (LiveSummaryMessage & { at: number })[] = [];
    const sub = runtime.bus.subscribe({ types: ['summary', 'stream'], deliver: (ms) => ms.forEach((m) => m.type === 'summary' && live.push({ ...m, at: Date.now() })) });
    let endedAt = 0;
    const ends = runtime.bus.subscribe({ types: ['stream'], deliver: (ms) => ms.forEach((m) => m.type === 'stream' && m.action === 'ended' && (endedAt ||= Date.now())) });
    cleanups.push(async () => {
      sub.close();
      ends.close();
    });

    const { id } = await runMeeting(url, 8);
    await rx.waitFor(() => rx.unique().some((r) => r.type === 'summary.ready'), 15_000, 'summary.ready');

    // Live notes arrived while the meeting ran, and grew.
    const notes = live.filter((m) => m.kind === 'notes' && m.streamId === id);
    assert.ok(notes.length >= 2, `${notes.length} live notes updates`);
    assert.ok(!endedAt || notes[0].at < endedAt, 'the first notes came before the stream ended');
    assert.ok(notes.some((m) => m.notes.includes('Alice: We decided to launch on March 3.')), 'the notes carry the decision');
    const final = live.find((m) => m.kind === 'final' && m.streamId === id);
    assert.ok(final?.summary, 'the final summary went out live');

    // Nothing the stand-in refused, no PII, the transcript in the prompts.
    assert.deepEqual(llm.violations, []);
    const prompts = llm.requests.map((r) => r.user).join('\n');
    assert.match(prompts, /\] Alice: We decided to launch on March 3\./);
    assert.match(prompts, /Bob \(chat\): My number is \[phone\]/);
    assert.match(prompts, /Reach me at \[email\]/);

    // API
    const res = await fetch(`${url}/api/streams/${id}/summary`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, any>;
    assert.equal(body.final, true);
    assert.equal(body.model, 'gpt-e2e');
    assert.equal(body.provider, 'openai');
    assert.deepEqual(body.summary.decisions, ['We decided to launch on March 3.']);
    assert.deepEqual(body.summary.actionItems, [{ task: 'I will send the deck by Friday.', owner: 'Bob', due: 'Friday' }]);
    assert.match(body.notes, /lines so far/);
    const input = llm.requests.reduce((n, r) => n + r.promptTokens, 0);
    assert.equal(body.tokens.input, input);
    assert.ok(body.tokens.output > 0);
    assert.ok(Math.abs(body.costUsd - (input * 2.5 + body.tokens.output * 10) / 1e6) < 1e-12);
    assert.equal(typeof body.updatedAt, 'number');
    const missing = await fetch(`${url}/api/streams/nope/summary`);
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: { message: string } }).error.message, /no stream nope/);

    // summary.md in the recording, listed in the manifest
    const dir = join(dataDir, 'recordings', id);
    await until(() => existsSync(join(dir, 'summary.md')), 5000, 'summary.md');
    const md = readFileSync(join(dir, 'summary.md'), 'utf8');
    assert.match(md, /## Decisions\n\n- We decided to launch on March 3\./);
    assert.match(md, /- \[ \] I will send the deck by Friday\. — Bob \(due Friday\)/);
    await until(() => (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: { path: string }[] }).files.some((f) => f.path === 'summary.md'), 5000, 'summary.md in manifest.json');
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { complete: boolean; files: { path: string }[] };
    assert.equal(manifest.complete, true, 'the recorder had finished its manifest');
    assert.ok(manifest.files.some((f) => f.path === 'audio/mixed.wav'), 'the recorder files are still listed');

    // summary.ready at the webhook destination (signed, once)
    const ready = rx.unique().filter((r) => r.type === 'summary.ready');
    assert.equal(ready.length, 1);
    assert.equal(ready[0].stream.rtmsStreamId, id);
    assert.deepEqual(ready[0].data.decisions, ['We decided to launch on March 3.']);
    assert.equal(ready[0].data.url, `/api/streams/${id}/summary`);
    assert.equal(rx.badSignatures, 0);

    // metrics
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, new RegExp(`openrtms_llm_tokens_total\\{provider="openai",model="gpt-e2e",direction="input"\\} ${input}\\b`));
    assert.match(metrics, /openrtms_llm_requests_total\{provider="openai",model="gpt-e2e",purpose="summary",outcome="ok"\} 1/);
    assert.match(metrics, /openrtms_llm_redactions_total\{kind="email"\} [1-9]/);
    const cost = Number(/openrtms_llm_cost_usd_total\{provider="openai",model="gpt-e2e"\} ([\d.e-]+)/.exec(metrics)?.[1]);
    assert.ok(Math.abs(cost - body.costUsd) < 1e-9, `cost metric ${cost} = stored ${body.costUsd}`);
  });

  it('without an intelligence entry nothing is summarised or sent, and the API says why', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { openStore } = await import('../../src/store/open.js');
    const { createRuntime } = await import('../../src/server/runtime.js');
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-nollm-'));
    const store = await openStore({ dataDir, databaseUrl: null });
    const runtime = createRuntime({ clientId: 'a', clientSecret: 'b', secretToken: 'c', webhookPath: '/webhook', store, dataDir });
    cleanups.push(async () => {
      await runtime.shutdown();
      rmSync(dataDir, { recursive: true, force: true });
    });
    assert.equal(runtime.intelligence, undefined);
    const info = { rtmsStreamId: 'quiet-1', meetingUuid: 'm-1', product: 'meeting' as const, startedAt: Date.now() };
    await store.upsertStream(info);
    const { url } = await runtime.app.listen(0, '127.0.0.1');
    const res = await fetch(`${url}/api/streams/quiet-1/summary`);
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'NOT_FOUND');
    assert.match(body.error.message, /has no notes or summary \(the config file's "intelligence" entry turns them on/);
    assert.doesNotMatch(await (await fetch(`${url}/metrics`)).text(), /openrtms_llm_/, 'no LLM metrics without an LLM');
  });
});
