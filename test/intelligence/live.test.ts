/**
 * Live checks against the real vendors, when their keys are set (OPENAI_API_KEY, ANTHROPIC_API_KEY;
 * models from OPENAI_MODEL / ANTHROPIC_MODEL, base URLs from OPENAI_BASE_URL / ANTHROPIC_BASE_URL);
 * skipped with a one-line reason otherwise. Each sends one short fictional meeting and checks the
 * summary is the JSON asked for, with the decision and the action item's owner.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIntelligence } from '../../src/intelligence/config.js';
import { createLlmClient } from '../../src/intelligence/llm/index.js';
import { formatLine } from '../../src/intelligence/prompts.js';
import { Summarizer } from '../../src/intelligence/summarizer.js';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const lines = [
  ['Alice', "Let's settle the launch date."],
  ['Bob', 'I propose March 3; marketing is ready by then.'],
  ['Alice', 'Agreed, we launch on March 3.'],
  ['Bob', 'I will send the press kit to the agency by Friday.'],
].map(([speaker, text], i) => formatLine({ at: START + i * 10_000, speaker, text }, START));

const vendors = [
  { provider: 'openai', key: 'OPENAI_API_KEY', model: process.env.OPENAI_MODEL || 'gpt-4o-mini', baseUrl: process.env.OPENAI_BASE_URL },
  { provider: 'anthropic', key: 'ANTHROPIC_API_KEY', model: process.env.ANTHROPIC_MODEL || 'claude-haiku-4-5', baseUrl: process.env.ANTHROPIC_BASE_URL },
] as const;

for (const v of vendors) {
  const apiKey = process.env[v.key];
  describe(`live ${v.provider}`, { skip: apiKey ? false : `${v.key} is not set` }, () => {
    it('summarises a short meeting into the JSON asked for', { timeout: 60_000 }, async () => {
      const config = parseIntelligence({ provider: v.provider, model: v.model, apiKey, ...(v.baseUrl ? { baseUrl: v.baseUrl } : {}), timeoutSeconds: 50 });
      const { summary, usage } = await new Summarizer(createLlmClient(config), config).summarize(lines);
      assert.notEqual(summary.malformed, true, `not JSON: ${summary.overview}`);
      assert.ok(summary.decisions.some((d) => /march 3/i.test(d)), `decisions: ${JSON.stringify(summary.decisions)}`);
      assert.ok(summary.actionItems.some((a) => /bob/i.test(a.owner ?? '')), `action items: ${JSON.stringify(summary.actionItems)}`);
      assert.ok(usage.inputTokens > 0 && usage.outputTokens > 0);
    });
  });
}
