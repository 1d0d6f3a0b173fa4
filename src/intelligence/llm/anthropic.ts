/**
 * Anthropic's Messages API through the official `@anthropic-ai/sdk`: `POST {baseUrl}/v1/messages`
 * with `x-api-key` and `anthropic-version`.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { LlmClient, LlmRequest, LlmResponse } from './types.js';

export interface AnthropicOptions {
  baseUrl: string;
  apiKey: string;
  model: string;
  timeoutMs: number;
}

export class AnthropicClient implements LlmClient {
  readonly provider = 'anthropic' as const;
  readonly model: string;
  readonly #sdk: Anthropic;

  constructor(o: AnthropicOptions) {
    this.model = o.model;
    this.#sdk = new Anthropic({ apiKey: o.apiKey, baseURL: o.baseUrl, timeout: o.timeoutMs, maxRetries: 2 });
  }

  async complete(r: LlmRequest): Promise<LlmResponse> {
    const res = await this.#sdk.messages.create(
      {
        model: this.model,
        max_tokens: r.maxTokens,
        // The Messages API has no JSON mode: the prompt asks for JSON and the parser tolerates fences.
        system: r.json ? `${r.system}\n\nAnswer with one JSON object and nothing else.` : r.system,
        messages: [{ role: 'user', content: r.prompt }],
      },
      { signal: r.signal },
    );
    const text = res.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    return { text, usage: { inputTokens: res.usage?.input_tokens ?? 0, outputTokens: res.usage?.output_tokens ?? 0 }, model: res.model || this.model };
  }
}
