/**
 * A local stand-in for AssemblyAI Universal Streaming v3 (`wss://streaming.assemblyai.com/v3/ws`),
 * over TLS (the SDK accepts only wss://), following the documented protocol and checking:
 *  - upgrade on `/v3/ws`, the key in `Authorization` (or a `token` query parameter);
 *  - `sample_rate` present, `encoding=pcm_s16le`, booleans as `true`/`false`;
 *  - audio as binary messages of 50–1000 ms of whole 16-bit samples (AssemblyAI closes with
 *    3007 "Input duration violation" otherwise — recorded as a violation here);
 *  - text messages only `Terminate`, `ForceEndpoint` or `UpdateConfiguration`.
 * It answers like AssemblyAI: `Begin`, then per recognized line a partial `Turn`, the end-of-turn
 * `Turn` and (with `format_turns=true`) the formatted one, word times in ms on the session's audio;
 * `speaker_label` ("A", "B", …) with `speaker_labels=true`; `Terminate` → `Termination` and a close.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import WebSocket, { WebSocketServer } from 'ws';
import { Recognizer, type Recognized } from './recognizer.js';
import { selfSignedCert } from './tls.js';

export interface AssemblyAiSessionLog {
  params: Record<string, string>;
  authorization?: string;
  audioBytes: number;
  audioMessages: number;
  terminated: boolean;
  recognized: Recognized[];
}

export interface AssemblyAiStandIn {
  url: string;
  sessions: AssemblyAiSessionLog[];
  violations: string[];
  drop(): void;
  close(): Promise<void>;
}

const BOOL = /^(true|false)$/;

export async function startAssemblyAiStandIn(options: { apiKey: string }): Promise<AssemblyAiStandIn> {
  const sessions: AssemblyAiSessionLog[] = [];
  const violations: string[] = [];
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true });
  const server: Server = createServer(selfSignedCert(), (_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'https://x');
    const p = Object.fromEntries(url.searchParams);
    const refuse = (why: string) => {
      violations.push(why);
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    };
    if (url.pathname !== '/v3/ws') return refuse(`path ${url.pathname}`);
    if (req.headers.authorization !== options.apiKey && p.token !== options.apiKey) {
      violations.push('neither Authorization nor token carries the key');
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    if (!/^\d+$/.test(p.sample_rate ?? '')) return refuse(`sample_rate=${p.sample_rate}`);
    if (p.encoding !== 'pcm_s16le') return refuse(`encoding=${p.encoding}`);
    for (const k of ['format_turns', 'speaker_labels']) if (p[k] !== undefined && !BOOL.test(p[k])) return refuse(`${k}=${p[k]}`);
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, p, req.headers.authorization));
  });

  function serve(ws: WebSocket, params: Record<string, string>, authorization?: string): void {
    sockets.add(ws);
    const log: AssemblyAiSessionLog = { params, authorization, audioBytes: 0, audioMessages: 0, terminated: false, recognized: [] };
    sessions.push(log);
    const rate = Number(params.sample_rate);
    const rec = new Recognizer(rate);
    const labels = params.speaker_labels === 'true';
    const formatted = params.format_turns === 'true';
    let turn = 0;
    const started = Date.now();
    ws.send(JSON.stringify({ type: 'Begin', id: randomUUID(), expires_at: Math.floor(Date.now() / 1000) + 3600 }));
    const send = (found: Recognized[]) => {
      for (const r of found) {
        log.recognized.push(r);
        const words = r.words.map((w) => ({ start: w.startMs, end: w.endMs, text: w.text, confidence: 0.98, word_is_final: true }));
        const base = { type: 'Turn', turn_order: turn++, end_of_turn_confidence: 0.9, words, ...(labels ? { speaker_label: String.fromCharCode(65 + r.speakerIndex) } : {}) };
        const plain = r.text.toLowerCase().replace(/[^\p{L}\p{N}' ]/gu, '');
        ws.send(JSON.stringify({ ...base, turn_is_formatted: false, end_of_turn: false, transcript: plain.split(' ').slice(0, 2).join(' ') }));
        ws.send(JSON.stringify({ ...base, turn_is_formatted: false, end_of_turn: true, transcript: plain }));
        if (formatted) ws.send(JSON.stringify({ ...base, turn_is_formatted: true, end_of_turn: true, transcript: r.text }));
      }
    };
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const buf = data as Buffer;
        const ms = (buf.length / 2 / rate) * 1000;
        if (buf.length % 2 !== 0) violations.push(`audio message of ${buf.length} bytes`);
        if (ms < 50 || ms > 1000) violations.push(`audio message of ${ms} ms (AssemblyAI accepts 50–1000 ms)`);
        log.audioBytes += buf.length;
        log.audioMessages++;
        send(rec.push(new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + (buf.length & ~1)))));
        return;
      }
      let msg: { type?: string };
      try {
        msg = JSON.parse(String(data));
      } catch {
        violations.push('text message is not JSON');
        return;
      }
      if (msg.type === 'Terminate') {
        log.terminated = true;
        send(rec.flush());
        ws.send(JSON.stringify({ type: 'Termination', audio_duration_seconds: Math.round(rec.samples / rate), session_duration_seconds: Math.round((Date.now() - started) / 1000) }));
        ws.close(1000);
      } else if (msg.type === 'ForceEndpoint') send(rec.flush());
      else if (msg.type !== 'UpdateConfiguration') violations.push(`unexpected message type ${JSON.stringify(msg.type)}`);
    });
    ws.on('close', () => sockets.delete(ws));
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `wss://127.0.0.1:${port}`,
    sessions,
    violations,
    drop() {
      for (const ws of sockets) ws.terminate();
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
