/**
 * Turns transcript lines into live notes, a final summary and answers, within the model's context:
 * a transcript longer than one request can hold is cut into chunks, each turned into notes (map),
 * and the notes summarised (reduce). Every prompt goes through PII redaction (when on) right before
 * it is sent, so nothing can bypass it.
 */
import { chunkLines, estimateTokens } from './chunk.js';
import type { LlmClient } from './llm/types.js';
import { redactPii, type RedactionCounts } from './redact.js';
import { parseSummary } from './summary.js';
import type { IntelligenceConfig, MeetingSummary, TokenUsage } from './types.js';

export type LlmPurpose = 'notes' | 'summary' | 'answer';

/** Told of every request: its purpose, its usage (absent when it failed) and the redactions made. */
export type LlmObserver = (e: { purpose: LlmPurpose; usage?: TokenUsage; error?: unknown; redacted: RedactionCounts }) => void;

/** Room kept for the wording around the transcript and for the estimate being off. */
const OVERHEAD_TOKENS = 200;
const MAX_REDUCE_ROUNDS = 4;

const add = (a: TokenUsage, b: TokenUsage): TokenUsage => ({ inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens });

export class Summarizer {
  constructor(
    readonly client: LlmClient,
    readonly config: IntelligenceConfig,
    private readonly observe: LlmObserver = () => {},
  ) {}

  /** Estimated tokens of transcript text one request can carry next to `system` and `extra`. */
  budget(system: string, extra = ''): number {
    const c = this.config;
    return Math.max(64, c.maxContextTokens - c.maxOutputTokens - estimateTokens(system) - estimateTokens(extra) - OVERHEAD_TOKENS);
  }

  async #send(purpose: LlmPurpose, system: string, prompt: string, json = false): Promise<{ text: string; usage: TokenUsage }> {
    const redacted: RedactionCounts = { email: 0, phone: 0 };
    const body = this.config.redactPii ? redactPii(prompt, redacted) : prompt;
    try {
      const res = await this.client.complete({ system, prompt: body, maxTokens: this.config.maxOutputTokens, json, signal: AbortSignal.timeout(this.config.timeoutSeconds * 1000) });
      this.observe({ purpose, usage: res.usage, redacted });
      return { text: res.text, usage: res.usage };
    } catch (err) {
      this.observe({ purpose, error: err, redacted });
      throw err;
    }
  }

  /** The notes so far, updated with `lines` (formatted transcript lines); several requests when they do not fit one. */
  async updateNotes(previous: string, lines: readonly string[]): Promise<{ notes: string; usage: TokenUsage }> {
    const system = this.config.prompts.notes;
    let notes = previous;
    let usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
    for (const chunk of chunkLines(lines, this.budget(system, notes))) {
      const r = await this.#send('notes', system, `Notes so far:\n${notes.trim() || '(none yet)'}\n\nNew transcript:\n${chunk.join('\n')}`);
      usage = add(usage, r.usage);
      notes = r.text.trim() || notes;
    }
    return { notes, usage };
  }

  /** The final summary of the whole transcript (map then reduce when it does not fit one request). */
  async summarize(lines: readonly string[]): Promise<{ summary: MeetingSummary; usage: TokenUsage }> {
    const system = this.config.prompts.summary;
    let usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
    let material = [...lines];
    let heading = 'Transcript';
    for (let round = 0; chunkLines(material, this.budget(system)).length > 1; round++) {
      const chunks = chunkLines(material, this.budget(this.config.prompts.notes));
      if (round >= MAX_REDUCE_ROUNDS) {
        // Notes that refuse to shrink: summarise what fits rather than loop.
        material = chunkLines(material, this.budget(system))[0];
        break;
      }
      const parts: string[] = [];
      for (const [i, chunk] of chunks.entries()) {
        const r = await this.#send('notes', this.config.prompts.notes, `Notes so far:\n(none yet)\n\nNew transcript (part ${i + 1} of ${chunks.length}):\n${chunk.join('\n')}`);
        usage = add(usage, r.usage);
        parts.push(`Part ${i + 1} of ${chunks.length}:`, ...r.text.trim().split('\n'));
      }
      material = parts;
      heading = 'Notes of the meeting, part by part';
    }
    const r = await this.#send('summary', system, `${heading}:\n${material.join('\n')}`, true);
    return { summary: parseSummary(r.text), usage: add(usage, r.usage) };
  }

  /** An answer to `question` from the passages given (already the most relevant, in time order). */
  async answer(question: string, passages: readonly string[]): Promise<{ answer: string; usage: TokenUsage }> {
    const system = this.config.prompts.answer;
    const fitted = chunkLines(passages, this.budget(system, question))[0] ?? [];
    const r = await this.#send('answer', system, `Transcript passages:\n${fitted.join('\n') || '(none found)'}\n\nQuestion: ${question}`);
    return { answer: r.text.trim(), usage: r.usage };
  }
}
