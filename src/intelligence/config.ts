/**
 * Validation of the config file's `intelligence` entry. Errors name the JSON path and never echo the
 * API key.
 */
import { ConfigError } from '../errors.js';
import { parseStreamMatch } from '../config/match.js';
import { DEFAULT_PROMPTS } from './prompts.js';
import type { IntelligenceConfig, LlmProvider } from './types.js';

const bad = (path: string, what: string) => new ConfigError('CONFIG_INVALID', `${path}: ${what}`, { path });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const KEYS = ['provider', 'baseUrl', 'apiKey', 'model', 'notesEveryMinutes', 'maxContextTokens', 'maxOutputTokens', 'timeoutSeconds', 'prompts', 'pricing', 'redactPii', 'includeChat', 'source', 'match'];
const DEFAULT_BASE_URL: Record<LlmProvider, string> = { openai: 'https://api.openai.com/v1', anthropic: 'https://api.anthropic.com' };

function only(obj: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) throw bad(`${path}.${k}`, `unknown key (expected one of ${allowed.join(', ')})`);
}

function text(obj: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw bad(`${path}.${key}`, 'expected a non-empty string');
  return v;
}

function number(obj: Record<string, unknown>, key: string, path: string, fallback: number, min: number, max: number, what = `a number from ${min} to ${max}`): number {
  const v = obj[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw bad(`${path}.${key}`, `expected ${what}, got ${JSON.stringify(v)}`);
  return v;
}

function flag(obj: Record<string, unknown>, key: string, path: string, fallback: boolean): boolean {
  const v = obj[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw bad(`${path}.${key}`, 'expected true or false');
  return v;
}

export function parseIntelligence(v: unknown, path = 'intelligence'): IntelligenceConfig {
  if (!isObject(v)) throw bad(path, 'expected an object with provider and model');
  only(v, path, KEYS);
  const provider = v.provider;
  if (provider !== 'openai' && provider !== 'anthropic') throw bad(`${path}.provider`, `expected "openai" (any OpenAI-compatible chat API) or "anthropic"${typeof provider === 'string' ? `, got "${provider}"` : ''}`);
  const model = text(v, 'model', path);
  if (!model) throw bad(`${path}.model`, 'missing; expected the model name, e.g. "gpt-4o-mini" or "claude-sonnet-4-5"');
  let baseUrl = DEFAULT_BASE_URL[provider];
  if (v.baseUrl !== undefined) {
    if (typeof v.baseUrl !== 'string' || !/^https?:\/\/[^/\s]+/.test(v.baseUrl)) throw bad(`${path}.baseUrl`, `expected an http(s) URL${typeof v.baseUrl === 'string' ? `, got "${v.baseUrl}"` : ''}`);
    baseUrl = v.baseUrl.replace(/\/+$/, '');
  }
  const apiKey = text(v, 'apiKey', path);
  if (provider === 'anthropic' && !apiKey) throw bad(`${path}.apiKey`, 'missing; the Anthropic API needs a key (e.g. "${ANTHROPIC_API_KEY}")');
  // Only local servers (Ollama, vLLM) do without a key.
  if (provider === 'openai' && !apiKey && new URL(baseUrl).hostname === 'api.openai.com') throw bad(`${path}.apiKey`, 'missing; the OpenAI API needs a key (e.g. "${OPENAI_API_KEY}")');
  const prompts = { ...DEFAULT_PROMPTS };
  if (v.prompts !== undefined) {
    if (!isObject(v.prompts)) throw bad(`${path}.prompts`, 'expected an object with notes, summary and/or answer');
    only(v.prompts, `${path}.prompts`, ['notes', 'summary', 'answer']);
    for (const k of ['notes', 'summary', 'answer'] as const) prompts[k] = text(v.prompts, k, `${path}.prompts`) ?? prompts[k];
  }
  let pricing: IntelligenceConfig['pricing'];
  if (v.pricing !== undefined) {
    if (!isObject(v.pricing)) throw bad(`${path}.pricing`, 'expected an object with inputPerMillion and outputPerMillion (USD)');
    only(v.pricing, `${path}.pricing`, ['inputPerMillion', 'outputPerMillion']);
    pricing = { inputPerMillion: number(v.pricing, 'inputPerMillion', `${path}.pricing`, 0, 0, 1e6), outputPerMillion: number(v.pricing, 'outputPerMillion', `${path}.pricing`, 0, 0, 1e6) };
  }
  const match = v.match === undefined ? undefined : parseStreamMatch(v.match, `${path}.match`).match;
  const maxContextTokens = number(v, 'maxContextTokens', path, 16_000, 1000, 10_000_000, 'a whole number of tokens from 1000');
  const maxOutputTokens = number(v, 'maxOutputTokens', path, 1024, 16, 1_000_000, 'a whole number of tokens from 16');
  // A chunk must leave room for the prompt and the answer.
  if (maxOutputTokens * 2 > maxContextTokens) throw bad(`${path}.maxOutputTokens`, `expected at most half of maxContextTokens (${maxContextTokens})`);
  return {
    provider,
    baseUrl,
    ...(apiKey ? { apiKey } : {}),
    model,
    notesEveryMinutes: number(v, 'notesEveryMinutes', path, 5, 0, 24 * 60, 'minutes from 0 (off) to 1440; fractions allowed'),
    maxContextTokens: Math.floor(maxContextTokens),
    maxOutputTokens: Math.floor(maxOutputTokens),
    timeoutSeconds: number(v, 'timeoutSeconds', path, 120, 1, 3600, 'seconds from 1 to 3600'),
    prompts,
    ...(pricing ? { pricing } : {}),
    redactPii: flag(v, 'redactPii', path, true),
    includeChat: flag(v, 'includeChat', path, true),
    source: text(v, 'source', path) ?? 'zoom',
    ...(match ? { match } : {}),
  };
}
