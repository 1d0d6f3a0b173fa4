/**
 * A local stand-in for Deepgram's live transcription WebSocket (`wss://api.deepgram.com/v1/listen`),
 * following the documented protocol, that checks what it receives:
 *  - upgrade on `/v1/listen` only, `Authorization: Token <key>` (401 otherwise);
 *  - query `encoding=linear16`, `sample_rate`, `channels=1`, `model`, and `diarize`,
 *    `interim_results`, `punctuate` as `true`/`false`;
 *  - audio as binary messages of whole 16-bit samples; text messages only `KeepAlive`,
 *    `Finalize` or `CloseStream`;
 *  - no audio and no KeepAlive for `idleTimeoutMs` (Deepgram: 10 s) closes the socket with 1011
 *    (NET-0001), as Deepgram does.
 * It answers like Deepgram: `Results` (interim, then `is_final`/`speech_final`) with words, start
 * and duration in seconds on the connection's audio timeline, speaker numbers when `diarize=true`;
 * after `CloseStream` the last results, a `Metadata` message and a normal close.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import WebSocket, { WebSocketServer } from 'ws';
import { Recognizer, type Recognized } from './recognizer.js';

export interface DeepgramConnectionLog {
  params: Record<string, string>;
  authorization?: string;
  audioBytes: number;
  audioMessages: number;
  keepAlives: number;
  closeStream: boolean;
  recognized: Recognized[];
  closedBy?: 'client' | 'server' | 'idle' | 'dropped';
  /** When the socket opened (ms since epoch). */
  openedAt: number;
}

export interface DeepgramStandIn {
  url: string;
  connections: DeepgramConnectionLog[];
  /** Protocol violations seen (a test asserts there are none). */
  violations: string[];
  /** Ends every open socket abruptly (no close frame), as a network failure would. */
  drop(): number;
  /** While true, upgrades are refused with 503 (the provider is down). */
  refuse: boolean;
  close(): Promise<void>;
}

const BOOL = /^(true|false)$/;

export async function startDeepgramStandIn(options: { apiKey: string; idleTimeoutMs?: number }): Promise<DeepgramStandIn> {
  const connections: DeepgramConnectionLog[] = [];
  const violations: string[] = [];
  const sockets = new Map<WebSocket, DeepgramConnectionLog>();
  const wss = new WebSocketServer({ noServer: true });
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  const state = { refuse: false };
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const fail = (status: number, why: string) => {
      violations.push(why);
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Bad Request'}\r\ncontent-type: application/json\r\n\r\n{"err_code":"${status === 401 ? 'INVALID_AUTH' : 'Bad Request'}","err_msg":"${why}"}`);
    };
    if (state.refuse) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
      return;
    }
    if (url.pathname !== '/v1/listen') return fail(400, `path ${url.pathname} is not /v1/listen`);
    if (req.headers.authorization !== `Token ${options.apiKey}`) return fail(401, `Authorization header is ${req.headers.authorization === undefined ? 'missing' : 'not "Token <key>"'}`);
    const p = Object.fromEntries(url.searchParams);
    if (p.encoding !== 'linear16') return fail(400, `encoding=${p.encoding}, expected linear16`);
    if (!/^\d+$/.test(p.sample_rate ?? '')) return fail(400, `sample_rate=${p.sample_rate}`);
    if (p.channels !== '1') return fail(400, `channels=${p.channels}, expected 1`);
    if (!p.model) return fail(400, 'model missing');
    for (const k of ['diarize', 'interim_results', 'punctuate']) if (p[k] !== undefined && !BOOL.test(p[k])) return fail(400, `${k}=${p[k]} is not true/false`);
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, p, req.headers.authorization));
  });

  function serve(ws: WebSocket, params: Record<string, string>, authorization?: string): void {
    const log: DeepgramConnectionLog = { params, authorization, audioBytes: 0, audioMessages: 0, keepAlives: 0, closeStream: false, recognized: [], openedAt: Date.now() };
    sockets.set(ws, log);
    connections.push(log);
    const rate = Number(params.sample_rate);
    const rec = new Recognizer(rate);
    const diarize = params.diarize === 'true';
    const interim = params.interim_results === 'true';
    const requestId = randomUUID();
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => {
        log.closedBy = 'idle';
        ws.close(1011, 'Deepgram did not receive audio data or a text message within the timeout window. See https://dpgr.am/net0001');
      }, options.idleTimeoutMs ?? 10_000);
    };
    armIdle();
    const results = (r: Recognized, final: boolean) => ({
      type: 'Results',
      channel_index: [0, 1],
      duration: (r.endMs - r.startMs) / 1000,
      start: r.startMs / 1000,
      is_final: final,
      speech_final: final,
      from_finalize: false,
      channel: {
        alternatives: [
          {
            transcript: r.text,
            confidence: 0.99,
            words: r.words.map((w) => ({ word: w.text.toLowerCase().replace(/[^\p{L}\p{N}']/gu, ''), punctuated_word: w.text, start: w.startMs / 1000, end: w.endMs / 1000, confidence: 0.99, ...(diarize ? { speaker: r.speakerIndex, speaker_confidence: 0.9 } : {}) })),
          },
        ],
      },
      metadata: { request_id: requestId, model_info: { name: params.model, version: '2026-01-01', arch: params.model }, model_uuid: randomUUID() },
    });
    const emit = (found: Recognized[]) => {
      for (const r of found) {
        log.recognized.push(r);
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(results(r, true)));
      }
    };
    ws.on('message', (data, isBinary) => {
      armIdle();
      if (isBinary) {
        const buf = data as Buffer;
        if (buf.length % 2 !== 0) violations.push(`audio message of ${buf.length} bytes is not whole 16-bit samples`);
        log.audioBytes += buf.length;
        log.audioMessages++;
        const pcm = new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + (buf.length & ~1)));
        emit(rec.push(pcm));
        // An interim hypothesis every ~second of audio, as Deepgram sends while a line is spoken (never stored).
        if (interim && log.audioMessages % 10 === 0) {
          const now = Math.round((rec.samples / rate) * 1000);
          ws.send(JSON.stringify(results({ line: -1, text: 'interim hypothesis', userId: 0, speaker: '', speakerIndex: 0, startMs: Math.max(0, now - 1000), endMs: now, words: [] }, false)));
        }
        return;
      }
      let msg: { type?: string };
      try {
        msg = JSON.parse(String(data));
      } catch {
        violations.push(`text message is not JSON: ${String(data).slice(0, 40)}`);
        return;
      }
      if (msg.type === 'KeepAlive') log.keepAlives++;
      else if (msg.type === 'Finalize') emit(rec.flush());
      else if (msg.type === 'CloseStream') {
        log.closeStream = true;
        emit(rec.flush());
        ws.send(JSON.stringify({ type: 'Metadata', transaction_key: 'deprecated', request_id: requestId, sha256: '', created: new Date().toISOString(), duration: rec.samples / rate, channels: 1, models: [randomUUID()], model_info: {} }));
        log.closedBy = 'server';
        ws.close(1000);
      } else violations.push(`unexpected text message type ${JSON.stringify(msg.type)}`);
    });
    ws.on('close', () => {
      if (idle) clearTimeout(idle);
      log.closedBy ??= 'client';
      sockets.delete(ws);
    });
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    connections,
    violations,
    get refuse() {
      return state.refuse;
    },
    set refuse(v: boolean) {
      state.refuse = v;
    },
    drop() {
      let n = 0;
      for (const [ws, log] of sockets) {
        log.closedBy ??= 'dropped';
        ws.terminate();
        n++;
      }
      return n;
    },
    async close() {
      for (const ws of sockets.keys()) ws.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
