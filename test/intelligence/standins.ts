/**
 * Local stand-ins for the two LLM APIs openrtms speaks, following the vendors' documented wire
 * protocols, driven by the real SDKs through their base-URL option:
 *
 * - OpenAI Chat Completions: `POST /v1/chat/completions`, `Authorization: Bearer <key>`, body
 *   `{model, messages:[{role,content}], max_tokens|max_completion_tokens, response_format?}`, answer
 *   `{id, object:"chat.completion", created, model, choices:[{index, message:{role,content}, finish_reason}], usage:{prompt_tokens, completion_tokens, total_tokens}}`.
 * - Anthropic Messages: `POST /v1/messages`, `x-api-key: <key>` (or `Authorization: Bearer <key>`, what
 *   @anthropic-ai/sdk 1.16 sends), `anthropic-version: YYYY-MM-DD`, body
 *   `{model, max_tokens, system?, messages:[{role:"user",content}]}`, answer
 *   `{id, type:"message", role:"assistant", model, content:[{type:"text",text}], stop_reason, stop_sequence, usage:{input_tokens, output_tokens}}`.
 *
 * Each request is CHECKED (path, auth headers, model, message shapes, that no forbidden PII string
 * is in it, that prompt + answer budget fit `maxContextTokens`); a violation is recorded and
 * answered with the vendor's 400 error shape. Answers are deterministic functions of the prompt:
 * notes keep the lines that carry a decision or a commitment, the JSON summary is built from them,
 * an answer quotes the first passage it was given.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Provider = 'openai' | 'anthropic';

export interface StandinRequest {
  provider: Provider;
  headers: IncomingHttpHeaders;
  body: Record<string, any>;
  system: string;
  user: string;
  json: boolean;
  maxTokens: number;
  /** bytes/4 of system + user, the same estimate the stand-in checks the budget with. */
  promptTokens: number;
}

export interface StandinOptions {
  provider: Provider;
  apiKey: string;
  model: string;
  /** Prompt estimate + max tokens must fit. */
  maxContextTokens?: number;
  /** Strings that must never arrive (PII the test put into the meeting). */
  forbidden?: string[];
  /** JSON requests get prose instead (the client's fallback is tested). */
  malformedJson?: boolean;
  /** Refuse `response_format` with a 400, as some OpenAI-compatible servers do (not counted as a violation). */
  rejectJsonMode?: boolean;
  /** Milliseconds to wait before answering. */
  delayMs?: number;
}

const tokens = (s: string) => Math.ceil(Buffer.byteLength(s) / 4);

/** `[mm:ss] Speaker: text` or `- Speaker: text` → speaker and text. */
function said(line: string): { speaker: string; text: string } | undefined {
  const m = /^(?:\[[\d:]+\]|-)\s+([^:]+?)(?: \(chat\))?:\s+(.*)$/.exec(line.trim());
  return m ? { speaker: m[1], text: m[2] } : undefined;
}

const KEY = /\b(decided|agreed|will)\b/i;

/** The deterministic "model". */
export function respond(system: string, user: string, json: boolean): string {
  const lines = user.split('\n');
  if (user.includes('\nQuestion: ')) {
    const passages = lines.filter((l) => /^\[[\d:]+\]/.test(l));
    return passages.length ? `From ${passages.length} passage(s): ${passages[0]}` : 'The passages do not say.';
  }
  const transcript = lines.filter((l) => /^\[[\d:]+\]/.test(l));
  if (json || /JSON/.test(system)) {
    const key = lines.map(said).filter((x): x is { speaker: string; text: string } => !!x && KEY.test(x.text));
    const count = lines.reduce((n, l) => n + Number(/^- (\d+) lines so far$/.exec(l)?.[1] ?? 0), 0) || transcript.length;
    return JSON.stringify({
      overview: `A meeting of ${count} lines.`,
      decisions: key.filter((k) => /decided|agreed/i.test(k.text)).map((k) => k.text),
      actionItems: key.filter((k) => /\bwill\b/i.test(k.text)).map((k) => ({ task: k.text, owner: k.speaker, due: /\bby (\w+day)\b/i.exec(k.text)?.[1] ?? null })),
    });
  }
  // Notes: what was kept before, the new key lines, and a running count of lines.
  const before = lines.slice(lines.indexOf('Notes so far:') + 1, lines.findIndex((l) => l.startsWith('New transcript')));
  const kept = before.filter((l) => l.startsWith('- ') && !/ lines so far$/.test(l));
  const counted = Number(before.map((l) => /^- (\d+) lines so far$/.exec(l)?.[1]).find(Boolean) ?? 0);
  const fresh = transcript.map(said).filter((x): x is { speaker: string; text: string } => !!x && KEY.test(x.text)).map((x) => `- ${x.speaker}: ${x.text}`);
  return [...kept, ...fresh, `- ${counted + transcript.length} lines so far`].join('\n');
}

export class LlmStandin {
  readonly requests: StandinRequest[] = [];
  readonly violations: string[] = [];
  /** Requests refused on purpose (rejectJsonMode). */
  refused = 0;
  readonly #server: Server;
  url = '';

  constructor(readonly o: StandinOptions) {
    this.#server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        const answer = () => this.#answer(req.method ?? '', req.url ?? '', req.headers, raw);
        const [status, body] = answer();
        const send = () => {
          const text = JSON.stringify(body);
          res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(o.provider === 'anthropic' ? { 'request-id': `req_${this.requests.length}` } : { 'x-request-id': `req_${this.requests.length}` }) });
          res.end(text);
        };
        if (o.delayMs) setTimeout(send, o.delayMs);
        else send();
      });
    });
  }

  /** The base URL to configure: OpenAI's includes `/v1`, Anthropic's does not (the SDK adds `/v1/messages`). */
  get baseUrl(): string {
    return this.o.provider === 'openai' ? `${this.url}/v1` : this.url;
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }

  #error(status: number, message: string, type = 'invalid_request_error'): [number, unknown] {
    this.violations.push(message);
    return this.o.provider === 'openai' ? [status, { error: { message, type, param: null, code: null } }] : [status, { type: 'error', error: { type, message } }];
  }

  #answer(method: string, url: string, headers: IncomingHttpHeaders, raw: string): [number, unknown] {
    const o = this.o;
    const path = url.split('?')[0];
    const expected = o.provider === 'openai' ? '/v1/chat/completions' : '/v1/messages';
    if (method !== 'POST' || path !== expected) return this.#error(404, `unexpected ${method} ${path} (expected POST ${expected})`, 'not_found_error');
    if (o.provider === 'openai') {
      if (headers.authorization !== `Bearer ${o.apiKey}`) return this.#error(401, 'missing or wrong Authorization: Bearer header', 'authentication_error');
    } else {
      // Documented: `x-api-key`. The SDK installed here (1.16) sends the key as `Authorization: Bearer`, which the API accepts too.
      if (headers['x-api-key'] !== o.apiKey && headers.authorization !== `Bearer ${o.apiKey}`) return this.#error(401, 'missing or wrong x-api-key (or Authorization: Bearer) header', 'authentication_error');
      if (!/^\d{4}-\d{2}-\d{2}$/.test(String(headers['anthropic-version'] ?? ''))) return this.#error(400, 'missing anthropic-version header');
    }
    if (!String(headers['content-type']).startsWith('application/json')) return this.#error(400, 'content-type is not application/json');
    let body: Record<string, any>;
    try {
      body = JSON.parse(raw);
    } catch {
      return this.#error(400, 'body is not JSON');
    }
    if (body.model !== o.model) return this.#error(400, `model ${JSON.stringify(body.model)}, expected ${o.model}`);
    let system = '';
    let user = '';
    let maxTokens: unknown;
    let json = false;
    if (o.provider === 'openai') {
      const msgs = body.messages;
      if (!Array.isArray(msgs) || msgs.some((m) => !['system', 'developer', 'user', 'assistant'].includes(m?.role) || typeof m.content !== 'string')) return this.#error(400, 'messages must be [{role, content: string}]');
      system = msgs.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => m.content).join('\n');
      user = msgs.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
      maxTokens = body.max_completion_tokens ?? body.max_tokens;
      if (body.response_format !== undefined && o.rejectJsonMode) {
        this.refused++;
        return [400, { error: { message: "Invalid parameter: 'response_format' is not supported with this model.", type: 'invalid_request_error', param: 'response_format', code: null } }];
      }
      if (body.response_format !== undefined) {
        if (body.response_format?.type !== 'json_object') return this.#error(400, 'response_format.type must be json_object');
        // OpenAI refuses JSON mode unless the word JSON appears in the messages.
        if (!/json/i.test(system + user)) return this.#error(400, "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'");
        json = true;
      }
    } else {
      const msgs = body.messages;
      if (!Array.isArray(msgs) || msgs.length === 0 || msgs[0].role !== 'user' || msgs.some((m) => !['user', 'assistant'].includes(m?.role))) return this.#error(400, 'messages must start with a user turn and alternate user/assistant');
      if (body.system !== undefined && typeof body.system !== 'string') return this.#error(400, 'system must be a string here');
      system = body.system ?? '';
      user = msgs.filter((m) => m.role === 'user').map((m) => (typeof m.content === 'string' ? m.content : m.content.map((b: { text?: string }) => b.text ?? '').join(''))).join('\n');
      maxTokens = body.max_tokens;
      // The Messages API has no JSON mode: a system prompt asking for JSON is the request for it.
      json = /JSON/.test(system);
    }
    if (!Number.isInteger(maxTokens) || (maxTokens as number) < 1) return this.#error(400, 'max_tokens must be a positive integer');
    const promptTokens = tokens(system) + tokens(user);
    this.requests.push({ provider: o.provider, headers, body, system, user, json, maxTokens: maxTokens as number, promptTokens });
    for (const f of o.forbidden ?? []) if (raw.includes(f)) return this.#error(400, `the request carries ${JSON.stringify(f)}, which must have been redacted`);
    if (o.maxContextTokens && promptTokens + (maxTokens as number) > o.maxContextTokens) return this.#error(400, `prompt of ~${promptTokens} tokens + max_tokens ${maxTokens} exceeds the context of ${o.maxContextTokens}`);
    const text = json && o.malformedJson ? 'Sure! The meeting went well; everyone agreed.' : respond(system, user, json);
    const usage = { input: promptTokens, output: tokens(text) };
    const n = this.requests.length;
    return o.provider === 'openai'
      ? [200, { id: `chatcmpl-${n}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: o.model, choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output } }]
      : [200, { id: `msg_${n}`, type: 'message', role: 'assistant', model: o.model, content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: usage.input, output_tokens: usage.output } }];
  }
}
