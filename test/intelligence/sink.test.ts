/**
 * NotesSink on the pipeline contract: handlers return at once whatever the LLM does, one notes
 * request at a time, lines said during a request go into the next one, a failed update is retried
 * with its lines, and a stream where nothing was said sends nothing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LlmMetrics } from '../../src/intelligence/metrics.js';
import { parseIntelligence } from '../../src/intelligence/config.js';
import type { LlmClient, LlmRequest, LlmResponse } from '../../src/intelligence/llm/types.js';
import { NotesSink } from '../../src/intelligence/sink.js';
import { Summarizer } from '../../src/intelligence/summarizer.js';
import type { LiveSummaryMessage } from '../../src/live/types.js';
import type { Store, SummaryRecord } from '../../src/store/types.js';

/** An LLM whose answers the test releases one by one. */
class HeldClient implements LlmClient {
  readonly provider = 'openai' as const;
  readonly model = 'held';
  readonly calls: { request: LlmRequest; answer: (text: string) => void; fail: (err: Error) => void }[] = [];
  complete(request: LlmRequest): Promise<LlmResponse> {
    return new Promise((resolve, reject) => this.calls.push({ request, answer: (text) => resolve({ text, usage: { inputTokens: 10, outputTokens: 2 }, model: 'held' }), fail: reject }));
  }
}

function setup(notesEveryMinutes: number, more: { resume?: boolean; before?: SummaryRecord; stored?: { at: number; speaker: string; text: string }[] } = {}) {
  const config = parseIntelligence({ provider: 'openai', model: 'held', baseUrl: 'http://127.0.0.1:9/v1', notesEveryMinutes });
  const client = new HeldClient();
  const saved: SummaryRecord[] = [];
  const published: LiveSummaryMessage[] = [];
  const announced: SummaryRecord[] = [];
  const errors: unknown[] = [];
  const store = { saveSummary: async (r: SummaryRecord) => void saved.push(r), summary: async () => more.before } as unknown as Store;
  const sink = new NotesSink({
    info: { rtmsStreamId: 's', meetingUuid: 'm', product: 'meeting', startedAt: 0, ...(more.resume ? { resume: true } : {}) },
    config,
    summarizer: new Summarizer(client, config),
    store,
    metrics: new LlmMetrics(config),
    publish: (m) => published.push(m),
    announce: (r) => announced.push(r),
    ...(more.stored ? { storedLines: async () => more.stored!, storeFlushed: async () => {} } : {}),
  });
  sink.setErrorReporter((e) => errors.push(e));
  return { sink, client, saved, published, announced, errors };
}

const say = (sink: NotesSink, at: number, text: string) => sink.onTranscript({ userId: 1, userName: 'Ann', text, timestamp: at } as never);
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (pred: () => boolean) => {
  for (let i = 0; i < 200 && !pred(); i++) await tick(10);
  assert.ok(pred());
};

describe('NotesSink', () => {
  it('a stream where nothing was said sends nothing', async () => {
    const { sink, client, saved, announced } = setup(0.001);
    await tick(150);
    await sink.close();
    assert.equal(client.calls.length, 0);
    assert.deepEqual(saved, []);
    assert.deepEqual(announced, []);
  });

  it('handlers never wait for the LLM; one request at a time; later lines go into the next update', async () => {
    const { sink, client, published } = setup(0.001); // every 60 ms
    say(sink, 1000, 'first');
    await until(() => client.calls.length === 1);
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) say(sink, 2000 + i, `line ${i}`);
    assert.ok(performance.now() - t0 < 200, 'appending 1000 lines while a request is pending is immediate');
    await tick(200);
    assert.equal(client.calls.length, 1, 'no second request while the first is pending');
    client.calls[0].answer('- notes one');
    await until(() => client.calls.length === 2);
    assert.equal(published.at(-1)?.notes, '- notes one');
    const second = client.calls[1].request.prompt;
    assert.match(second, /^Notes so far:\n- notes one\n/);
    assert.ok(!second.includes('first'), 'lines already noted are not sent again');
    assert.match(second, /Ann: line 0\n/);
    client.calls[1].answer('- notes two');
    await until(() => published.length === 2);
    const closing = sink.close();
    await until(() => client.calls.length >= 3);
    // The whole meeting goes to the final summary.
    const last = client.calls.at(-1)!;
    assert.equal(last.request.json, true);
    assert.match(last.request.prompt, /Ann: first/);
    last.answer('{"overview":"o","decisions":[],"actionItems":[]}');
    await closing;
    assert.equal(published.at(-1)?.kind, 'final');
  });

  it('a failed update is reported and its lines are sent again with the next', async () => {
    const { sink, client, errors, saved } = setup(0.001);
    say(sink, 1000, 'alpha');
    await until(() => client.calls.length === 1);
    client.calls[0].fail(new Error('503 from the LLM'));
    say(sink, 2000, 'beta'); // before the failure is even known
    await until(() => errors.length === 1);
    await until(() => client.calls.length === 2);
    assert.match(client.calls[1].request.prompt, /Ann: alpha\n.*Ann: beta$/s);
    client.calls[1].answer('- ok');
    await until(() => saved.length === 1);
    assert.equal(saved[0].notes, '- ok');
    assert.equal(saved[0].inputTokens, 10, 'only answered requests are counted');
    const closing = sink.close();
    await until(() => client.calls.length === 3);
    client.calls[2].fail(new Error('summary failed'));
    await closing;
    assert.equal(errors.length, 2);
  });

  it('a stream taken over from another process continues its notes, and the summary covers the whole stored meeting', async () => {
    const before: SummaryRecord = { rtmsStreamId: 's', notes: '- earlier notes', provider: 'openai', model: 'held', inputTokens: 100, outputTokens: 20, updatedAt: 1 };
    const stored = [
      { at: 500, speaker: 'Bo', text: 'said before the takeover' },
      { at: 3000, speaker: 'Ann', text: 'after' },
    ];
    const { sink, client, saved } = setup(0.001, { resume: true, before, stored });
    say(sink, 3000, 'after');
    await until(() => client.calls.length === 1);
    assert.match(client.calls[0].request.prompt, /^Notes so far:\n- earlier notes\n/);
    client.calls[0].answer('- earlier notes\n- after');
    await until(() => saved.length === 1);
    assert.equal(saved[0].inputTokens, 110, 'tokens continue from the earlier owner');
    const closing = sink.close();
    await until(() => client.calls.length === 2);
    assert.match(client.calls[1].request.prompt, /\[00:00\] Bo: said before the takeover\n\[00:03\] Ann: after$/);
    client.calls[1].answer('{"overview":"o","decisions":[],"actionItems":[]}');
    await closing;
    assert.equal(saved.at(-1)?.summary?.overview, 'o');
  });
});
