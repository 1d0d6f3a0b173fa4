/**
 * The `intelligence` entry of the config file, after validation: which LLM writes a stream's live
 * notes and final summary (and answers MCP questions), and how.
 */
import type { StreamMatch } from '../config/match.js';

export type LlmProvider = 'openai' | 'anthropic';

/** Prompts sent as the system message; each can be replaced in the config file. */
export interface IntelligencePrompts {
  /** Rolling live notes: receives the notes so far and the new part of the transcript. */
  notes: string;
  /** Final summary: must ask for the JSON shape {@link MeetingSummary}. */
  summary: string;
  /** MCP `ask`: answers a question from retrieved transcript passages, citing times and speakers. */
  answer: string;
}

export interface IntelligenceConfig {
  /** `openai`: any OpenAI-compatible Chat Completions API (OpenAI, OpenRouter, Ollama, vLLM); `anthropic`: the Messages API. */
  provider: LlmProvider;
  /** Default https://api.openai.com/v1 (openai) or https://api.anthropic.com (anthropic). */
  baseUrl: string;
  /** Absent for local servers that need none (Ollama, vLLM). Never logged. */
  apiKey?: string;
  model: string;
  /** Live notes period; fractions allowed (0.5 = every 30 s). 0 turns live notes off. Default 5. */
  notesEveryMinutes: number;
  /** The model's context window, in tokens: long transcripts are cut into chunks that fit. Default 16000. */
  maxContextTokens: number;
  /** Tokens the model may answer with, per request. Default 1024. */
  maxOutputTokens: number;
  /** Per request, retries included. Default 120. */
  timeoutSeconds: number;
  prompts: IntelligencePrompts;
  /** USD per million tokens, for the cost metric. */
  pricing?: { inputPerMillion: number; outputPerMillion: number };
  /** Replace e-mail addresses and phone numbers before anything is sent. Default true. */
  redactPii: boolean;
  /** Which transcript track the summary and `ask` read: `zoom` (default) or a speech-to-text provider's name. */
  source: string;
  /** Send chat messages along with the transcript. Default true. */
  includeChat: boolean;
  /** Only these streams get notes and a summary (absent = every stream). */
  match?: StreamMatch;
}

/** One action item of a final summary. */
export interface ActionItem {
  task: string;
  owner?: string;
  /** As said in the meeting ("Friday", "2026-12-10"). */
  due?: string;
}

/** The final summary of a stream. */
export interface MeetingSummary {
  overview: string;
  decisions: string[];
  actionItems: ActionItem[];
  /** The model's answer was not the JSON asked for: `overview` holds its text as is. */
  malformed?: boolean;
}

/** Token counts of one or more LLM requests. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}
