/**
 * A local stand-in for OpenAI's transcription endpoint (`POST /v1/audio/transcriptions`, also
 * served by local Whisper servers), following the documented API and checking each request:
 *  - `Authorization: Bearer <key>` (401 with OpenAI's error shape otherwise);
 *  - multipart/form-data with `file` (a RIFF/WAVE, 16-bit PCM mono, at the rate the test expects),
 *    `model`, `response_format=verbose_json`, `timestamp_granularities[]` of `word` and `segment`;
 *  - the file at most 25 MB, as OpenAI limits it.
 * It answers `verbose_json` like OpenAI: `task`, `language`, `duration`, `text`, `segments` (seconds,
 * relative to the file) and `words`.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Recognizer, type Recognized } from './recognizer.js';

export interface OpenAiRequestLog {
  model: string;
  language?: string;
  sampleRate: number;
  durationMs: number;
  recognized: Recognized[];
}

export interface OpenAiStandIn {
  url: string;
  requests: OpenAiRequestLog[];
  violations: string[];
  /** While > 0, requests are answered 503 (the SDK retries, then the adapter reports a lost connection); decremented per request. */
  failNext: number;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export async function startOpenAiStandIn(options: { apiKey: string; sampleRate?: number }): Promise<OpenAiStandIn> {
  const requests: OpenAiRequestLog[] = [];
  const violations: string[] = [];
  const state = { failNext: 0 };
  const json = (res: import('node:http').ServerResponse, status: number, obj: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'POST' || url.pathname !== '/v1/audio/transcriptions') {
      violations.push(`${req.method} ${url.pathname}`);
      return json(res, 404, { error: { message: 'Not found', type: 'invalid_request_error' } });
    }
    if (req.headers.authorization !== `Bearer ${options.apiKey}`) {
      violations.push('Authorization is not "Bearer <key>"');
      return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
    }
    const raw = await body(req);
    if (state.failNext > 0) {
      state.failNext--;
      return json(res, 503, { error: { message: 'The server is overloaded', type: 'server_error' } });
    }
    const ctype = req.headers['content-type'] ?? '';
    if (!ctype.startsWith('multipart/form-data')) {
      violations.push(`content-type ${ctype}`);
      return json(res, 400, { error: { message: 'expected multipart/form-data', type: 'invalid_request_error' } });
    }
    const form = await new Request('http://x', { method: 'POST', headers: { 'content-type': ctype }, body: new Uint8Array(raw) }).formData();
    const file = form.get('file');
    const model = String(form.get('model') ?? '');
    const format = String(form.get('response_format') ?? 'json');
    const grains = form.getAll('timestamp_granularities[]').map(String);
    const language = form.get('language') ?? undefined;
    const check = (ok: boolean, what: string) => {
      if (!ok) violations.push(what);
      return ok;
    };
    if (!check(file instanceof Blob, 'file missing') || !check(model !== '', 'model missing')) return json(res, 400, { error: { message: 'bad request', type: 'invalid_request_error' } });
    check(format === 'verbose_json', `response_format=${format}`);
    check(grains.includes('word') && grains.includes('segment'), `timestamp_granularities[]=${grains.join(',')}`);
    const wav = Buffer.from(await (file as Blob).arrayBuffer());
    check(wav.length <= 25 * 1024 * 1024, 'file over 25 MB');
    if (!check(wav.toString('ascii', 0, 4) === 'RIFF' && wav.toString('ascii', 8, 12) === 'WAVE', 'file is not a WAV')) return json(res, 400, { error: { message: 'Invalid file format.', type: 'invalid_request_error' } });
    const fmt = wav.readUInt16LE(20);
    const channels = wav.readUInt16LE(22);
    const rate = wav.readUInt32LE(24);
    const bits = wav.readUInt16LE(34);
    check(fmt === 1 && channels === 1 && bits === 16, `WAV is format ${fmt}, ${channels} channel(s), ${bits} bits`);
    if (options.sampleRate) check(rate === options.sampleRate, `WAV rate ${rate}, expected ${options.sampleRate}`);
    const data = wav.subarray(44);
    const pcm = new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + (data.length & ~1)));
    const rec = new Recognizer(rate);
    const found = [...rec.push(pcm), ...rec.flush()];
    const durationMs = (pcm.length / rate) * 1000;
    requests.push({ model, ...(language ? { language: String(language) } : {}), sampleRate: rate, durationMs, recognized: found });
    json(res, 200, {
      task: 'transcribe',
      language: 'english',
      duration: durationMs / 1000,
      text: found.map((r) => r.text).join(' '),
      segments: found.map((r, id) => ({ id, seek: 0, start: r.startMs / 1000, end: r.endMs / 1000, text: ` ${r.text}`, tokens: [], temperature: 0, avg_logprob: -0.2, compression_ratio: 1.2, no_speech_prob: 0.01 })),
      words: found.flatMap((r) => r.words.map((w) => ({ word: w.text, start: w.startMs / 1000, end: w.endMs / 1000 }))),
      usage: { type: 'duration', seconds: Math.ceil(durationMs / 1000) },
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    violations,
    get failNext() {
      return state.failNext;
    },
    set failNext(n: number) {
      state.failNext = n;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
