/** The one thing openrtms asks of an LLM: a system prompt and a user message in, text and token usage out. */
import type { LlmProvider, TokenUsage } from '../types.js';

export interface LlmRequest {
  system: string;
  prompt: string;
  maxTokens: number;
  /** Ask for a JSON object (OpenAI-compatible: `response_format`; Anthropic: by prompt only). */
  json?: boolean;
  signal?: AbortSignal;
}

export interface LlmResponse {
  text: string;
  usage: TokenUsage;
  /** The model that answered, as the API reported it. */
  model: string;
}

export interface LlmClient {
  readonly provider: LlmProvider;
  readonly model: string;
  complete(request: LlmRequest): Promise<LlmResponse>;
}
