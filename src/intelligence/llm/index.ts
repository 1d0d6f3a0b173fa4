import { AnthropicClient } from './anthropic.js';
import { OpenAiChatClient } from './openai.js';
import type { IntelligenceConfig } from '../types.js';
import type { LlmClient } from './types.js';

export type { LlmClient, LlmRequest, LlmResponse } from './types.js';
export { AnthropicClient, OpenAiChatClient };

/** The client the config asks for. */
export function createLlmClient(c: IntelligenceConfig): LlmClient {
  const timeoutMs = c.timeoutSeconds * 1000;
  return c.provider === 'anthropic'
    ? new AnthropicClient({ baseUrl: c.baseUrl, apiKey: c.apiKey ?? '', model: c.model, timeoutMs })
    : new OpenAiChatClient({ baseUrl: c.baseUrl, apiKey: c.apiKey, model: c.model, timeoutMs });
}
