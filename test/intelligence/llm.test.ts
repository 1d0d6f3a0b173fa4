/**
 * The LLM layer against local stand-ins of the OpenAI Chat Completions and Anthropic Messages APIs,
 * through the real SDKs: what is sent (auth, model, redacted text, chunks within the context),
 * what comes back (text, token usage), long meetings (map then reduce), malformed JSON, config.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { parseIntelligence } from '../../src/intelligence/config.js';
import { createLlmClient } from '../../src/intelligence/llm/index.js';
import { LlmMetrics } from '../../src/intelligence/metrics.js';
import { formatLine } from '../../src/intelligence/prompts.js';
import { redactPii } from '../../src/intelligence/redact.js';
import { retrieve } from '../../src/intelligence/retrieve.js';
import { parseSummary } from '../../src/intelligence/summary.js';
import { Summarizer } from '../../src/intelligence/summarizer.js';
import type { IntelligenceConfig } from '../../src/intelligence/types.js';
import { LlmStandin, type Provider } from './standins.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

async function standin(provider: Provider, extra: Partial<ConstructorParameters<typeof LlmStandin>[0]> = {}): Promise<LlmStandin> {
  const s = await new LlmStandin({ provider, apiKey: `sk-test-${provider}`, model: provider === 'openai' ? 'gpt-test' : 'claude-test', ...extra }).listen();
  closers.push(() => s.close());
  return s;
}

function config(s: LlmStandin, extra: Record<string, unknown> = {}): IntelligenceConfig {
  return parseIntelligence({ provider: s.o.provider, baseUrl: s.baseUrl, apiKey: s.o.apiKey, model: s.o.model, ...extra });
}

const START = Date.UTC(2026, 11, 3, 15, 0, 0);
/** A meeting of `n` lines; every 50th carries a decision, every 70th a commitment with a due day. */
function meetingLines(n: number): string[] {
  const people = ['Alice', 'Bob', 'Chen'];
  return Array.from({ length: n }, (_, i) => {
    const speaker = people[i % 3];
    const text =
      i % 50 === 7 ? `We decided to ship milestone ${i} first.` : i % 70 === 9 ? `I will write the report for item ${i} by Friday.` : `Line ${i}: status update on the integration work and the open questions we keep revisiting.`;
    return formatLine({ at: START + i * 5000, speaker, text }, START);
  });
}

for (const provider of ['openai', 'anthropic'] as const) {
  describe(`${provider} through its official SDK`, () => {
    it('sends the documented request (auth header, model, system and user text) and returns the text and token usage', async () => {
      const s = await standin(provider);
      const client = createLlmClient(config(s));
      const r = await client.complete({ system: 'You keep notes.', prompt: 'Notes so far:\n(none yet)\n\nNew transcript:\n[00:01] Alice: We will decide tomorrow.', maxTokens: 100 });
      assert.deepEqual(s.violations, []);
      assert.equal(s.requests.length, 1);
      const req = s.requests[0];
      assert.equal(req.system, 'You keep notes.');
      assert.match(req.user, /\[00:01\] Alice: We will decide tomorrow\./);
      assert.equal(req.maxTokens, 100);
      if (provider === 'openai') assert.equal(req.headers.authorization, 'Bearer sk-test-openai');
      else {
        assert.ok(req.headers['x-api-key'] === 'sk-test-anthropic' || req.headers.authorization === 'Bearer sk-test-anthropic', 'the key, as x-api-key or bearer token');
        assert.match(String(req.headers['anthropic-version']), /^\d{4}-\d{2}-\d{2}$/);
      }
      assert.equal(r.text, '- Alice: We will decide tomorrow.\n- 1 lines so far');
      assert.equal(r.usage.inputTokens, req.promptTokens);
      assert.equal(r.usage.outputTokens, Math.ceil(Buffer.byteLength(r.text) / 4));
    });

    it('a wrong key is an error from the SDK (401), not an answer', async () => {
      const s = await standin(provider);
      const client = createLlmClient({ ...config(s), apiKey: 'sk-wrong' });
      await assert.rejects(client.complete({ system: 's', prompt: 'p', maxTokens: 10 }), (err: Error & { status?: number }) => err.status === 401);
    });

    it('a long meeting is chunked within the context window (map), then summarised (reduce), nothing dropped', async () => {
      const maxContextTokens = 2000;
      const s = await standin(provider, { maxContextTokens });
      const c = config(s, { maxContextTokens, maxOutputTokens: 300 });
      const registry = new Registry();
      const metrics = new LlmMetrics(c, registry);
      const summarizer = new Summarizer(createLlmClient(c), c, metrics.observe);
      const lines = meetingLines(400);
      const r = await summarizer.summarize(lines);
      assert.deepEqual(s.violations, [], 'every request fits the context window');
      const maps = s.requests.filter((q) => !q.json);
      assert.ok(maps.length >= 5, `the transcript went out in ${maps.length} chunks`);
      assert.equal(s.requests.at(-1)!.json, true, 'the reduce step asks for JSON');
      // Every line reached exactly one map request, in order.
      const sent = maps.flatMap((q) => q.user.split('\n').filter((l) => /^\[\d/.test(l)));
      assert.deepEqual(sent, lines);
      for (const q of s.requests) assert.ok(q.promptTokens + q.maxTokens <= maxContextTokens, `request of ${q.promptTokens} + ${q.maxTokens} tokens`);
      assert.equal(r.summary.overview, 'A meeting of 400 lines.');
      assert.deepEqual(r.summary.decisions, [7, 57, 107, 157, 207, 257, 307, 357].map((i) => `We decided to ship milestone ${i} first.`));
      assert.deepEqual(r.summary.actionItems[0], { task: 'I will write the report for item 9 by Friday.', owner: 'Alice', due: 'Friday' });
      assert.equal(r.summary.actionItems.length, 6);
      assert.equal(r.usage.inputTokens, s.requests.reduce((n, q) => n + q.promptTokens, 0));
      const text = await registry.metrics();
      assert.match(text, new RegExp(`openrtms_llm_requests_total\\{provider="${provider}",model="${s.o.model}",purpose="notes",outcome="ok"\\} ${maps.length}`));
      assert.match(text, new RegExp(`openrtms_llm_tokens_total\\{provider="${provider}",model="${s.o.model}",direction="input"\\} ${r.usage.inputTokens}`));
    });

    it('e-mail addresses and phone numbers are redacted before sending (on by default); off when configured', async () => {
      const pii = ['alice.smith@example.com', '+1 415-555-0134', '(212) 555-0199'];
      const s = await standin(provider, { forbidden: pii });
      const c = config(s);
      assert.equal(c.redactPii, true);
      const registry = new Registry();
      const metrics = new LlmMetrics(c, registry);
      const summarizer = new Summarizer(createLlmClient(c), c, metrics.observe);
      const line = formatLine({ at: START + 61_000, speaker: 'Alice', text: 'Mail alice.smith@example.com or call +1 415-555-0134 or (212) 555-0199 before 10:30 on 2026-12-03.' }, START);
      await summarizer.updateNotes('', [line]);
      assert.deepEqual(s.violations, []);
      assert.match(s.requests[0].user, /\[01:01\] Alice: Mail \[email\] or call \[phone\] or \[phone\] before 10:30 on 2026-12-03\./);
      assert.match(await registry.metrics(), /openrtms_llm_redactions_total\{kind="phone"\} 2/);
      const open = await standin(provider);
      const raw = new Summarizer(createLlmClient(config(open, { redactPii: false })), config(open, { redactPii: false }));
      await raw.updateNotes('', [line]);
      assert.ok(open.requests[0].user.includes('alice.smith@example.com'), 'redactPii: false sends the text as is');
    });

    it('a summary that is not the JSON asked for falls back to the text, flagged malformed', async () => {
      const s = await standin(provider, { malformedJson: true });
      const c = config(s);
      const r = await new Summarizer(createLlmClient(c), c).summarize(meetingLines(3));
      assert.deepEqual(r.summary, { overview: 'Sure! The meeting went well; everyone agreed.', decisions: [], actionItems: [], malformed: true });
    });
  });
}

describe('OpenAI-compatible servers without JSON mode', () => {
  it('a 400 for response_format is retried once without it, and JSON mode stays off afterwards', async () => {
    const s = await standin('openai', { rejectJsonMode: true });
    const c = config(s);
    const summarizer = new Summarizer(createLlmClient(c), c);
    const first = await summarizer.summarize(meetingLines(60));
    assert.deepEqual(first.summary.decisions, ['We decided to ship milestone 7 first.', 'We decided to ship milestone 57 first.']);
    assert.equal(s.refused, 1);
    await summarizer.summarize(meetingLines(3));
    assert.equal(s.refused, 1, 'not asked again');
    assert.deepEqual(s.violations, []);
  });
});

describe('summary JSON parsing', () => {
  it('accepts fences, snake_case and object decisions; drops null owners', () => {
    const s = parseSummary('```json\n{"summary":"Short.","decisions":[{"decision":"Ship"}],"action_items":[{"task":"Write","owner":null,"due_date":"Monday"},"Call Bob"]}\n```');
    assert.deepEqual(s, { overview: 'Short.', decisions: ['Ship'], actionItems: [{ task: 'Write', due: 'Monday' }, { task: 'Call Bob' }] });
  });
  it('JSON of the wrong shape is malformed too', () => {
    assert.equal(parseSummary('{"decisions": 3}').malformed, true);
  });
});

describe('redaction', () => {
  it('keeps times, dates, years and small numbers; replaces phone numbers in common formats', () => {
    assert.equal(redactPii('At 10:30 on 2026-12-03 we had 1200 users in 2025 and 3 bugs.'), 'At 10:30 on 2026-12-03 we had 1200 users in 2025 and 3 bugs.');
    assert.equal(redactPii('Call 415.555.0134, +44 20 7946 0958 or 4155550134.'), 'Call [phone], [phone] or [phone].');
    assert.equal(redactPii('x <a.b-c+d@mail.example.co.uk>'), 'x <[email]>');
  });
});

describe('retrieval', () => {
  it('picks the passages sharing the rare words of the question, with their neighbours, in time order', () => {
    const items = ['we talked about lunch', 'the launch date is March 3', 'marketing needs the launch assets', 'weather was nice', 'lunch again', 'budget review'];
    const hits = retrieve(items, (x) => x, 'When is the launch date?', 1, 1);
    assert.deepEqual(hits.map((h) => h.item), ['we talked about lunch', 'the launch date is March 3', 'marketing needs the launch assets']);
    assert.deepEqual(retrieve(items, (x) => x, 'nothing matches zebra'), []);
  });
});

describe('intelligence config', () => {
  const ok = { provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-x' };
  const refuses = (v: unknown, re: RegExp) => assert.throws(() => parseConfig(JSON.stringify({ intelligence: v }), { KEY: 'sk-secret-value' }), (e: ConfigError) => e instanceof ConfigError && re.test(e.message) && !e.message.includes('sk-secret-value'));

  it('defaults: OpenAI base URL, notes every 5 minutes, redaction on, chat included, default prompts', () => {
    const c = parseConfig(JSON.stringify({ intelligence: ok })).intelligence!;
    assert.equal(c.baseUrl, 'https://api.openai.com/v1');
    assert.equal(c.notesEveryMinutes, 5);
    assert.equal(c.redactPii, true);
    assert.equal(c.includeChat, true);
    assert.equal(c.source, 'zoom');
    assert.match(c.prompts.summary, /JSON/);
    const a = parseConfig(JSON.stringify({ intelligence: { provider: 'anthropic', model: 'claude-x', apiKey: '${KEY}', notesEveryMinutes: 0.5, prompts: { notes: 'Be brief.' } } }), { KEY: 'k' }).intelligence!;
    assert.equal(a.baseUrl, 'https://api.anthropic.com');
    assert.equal(a.notesEveryMinutes, 0.5);
    assert.equal(a.prompts.notes, 'Be brief.');
  });

  it('one-line errors naming the JSON path, never the key', () => {
    refuses({ ...ok, provider: 'gemini' }, /^intelligence\.provider: expected "openai"/);
    refuses({ provider: 'openai' }, /^intelligence\.model: missing/);
    refuses({ ...ok, baseUrl: 'ftp://x' }, /^intelligence\.baseUrl: expected an http\(s\) URL/);
    refuses({ ...ok, notesEveryMinutes: -1 }, /^intelligence\.notesEveryMinutes: expected minutes/);
    refuses({ ...ok, prompts: { recap: 'x' } }, /^intelligence\.prompts\.recap: unknown key/);
    refuses({ ...ok, pricing: { inputPerMillion: 'cheap' } }, /^intelligence\.pricing\.inputPerMillion: expected a number/);
    refuses({ ...ok, match: { products: ['zoomcast'] } }, /^intelligence\.match\.products\[0\]: expected one of/);
    refuses({ ...ok, apiKey: '${KEY}', temperature: 2 }, /^intelligence\.temperature: unknown key/);
    refuses({ provider: 'anthropic', model: 'c' }, /^intelligence\.apiKey: missing/);
    refuses({ provider: 'openai', model: 'c' }, /^intelligence\.apiKey: missing; the OpenAI API needs a key/);
    assert.equal(parseConfig(JSON.stringify({ intelligence: { provider: 'openai', model: 'llama3.1', baseUrl: 'http://127.0.0.1:11434/v1' } })).intelligence!.apiKey, undefined, 'a local server needs no key');
    refuses({ ...ok, maxContextTokens: 1000, maxOutputTokens: 900 }, /^intelligence\.maxOutputTokens: expected at most half/);
    refuses({ ...ok, redactPii: 'yes' }, /^intelligence\.redactPii: expected true or false/);
  });
});
