/**
 * Any OpenAI-compatible Chat Completions API (OpenAI, OpenRouter, Ollama, vLLM) through the official
 * `openai` SDK: `POST {baseUrl}/chat/completions` with `Authorization: Bearer <apiKey>`.
 */
import OpenAI, { BadRequestError } from 'openai';
import type { LlmClient, LlmRequest, LlmResponse } from './types.js';

export interface OpenAiChatOptions {
  baseUrl: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
}

export class OpenAiChatClient implements LlmClient {
  readonly provider = 'openai' as const;
  readonly model: string;
  readonly #sdk: OpenAI;
  /** OpenAI itself wants `max_completion_tokens` (its reasoning models refuse `max_tokens`); the compatible servers know `max_tokens`. */
  readonly #official: boolean;
  /** Cleared when the server refused `response_format` once (some OpenRouter models, older local servers): the prompt asks for JSON anyway. */
  #jsonMode = true;

  constructor(o: OpenAiChatOptions) {
    this.model = o.model;
    // Local servers (Ollama, vLLM) need no key, but the SDK refuses to start without one.
    this.#sdk = new OpenAI({ apiKey: o.apiKey || 'no-key', baseURL: o.baseUrl, timeout: o.timeoutMs, maxRetries: 2 });
    this.#official = new URL(o.baseUrl).hostname === 'api.openai.com';
  }

  async complete(r: LlmRequest): Promise<LlmResponse> {
    try {
      return await this.#create(r, r.json === true && this.#jsonMode);
    } catch (err) {
      if (!(err instanceof BadRequestError) || !r.json || !this.#jsonMode) throw err;
      this.#jsonMode = false;
      return this.#create(r, false);
    }
  }

  async #create(r: LlmRequest, json: boolean): Promise<LlmResponse> {
    const res = await this.#sdk.chat.completions.create(
      {
        model: this.model,
        messages: [
          { role: 'system', content: r.system },
          { role: 'user', content: r.prompt },
        ],
        ...(this.#official ? { max_completion_tokens: r.maxTokens } : { max_tokens: r.maxTokens }),
        ...(json ? { response_format: { type: 'json_object' as const } } : {}),
      },
      { signal: r.signal },
    );
    return {
      text: res.choices[0]?.message?.content ?? '',
      usage: { inputTokens: res.usage?.prompt_tokens ?? 0, outputTokens: res.usage?.completion_tokens ?? 0 },
      model: res.model || this.model,
    };
  }
}
