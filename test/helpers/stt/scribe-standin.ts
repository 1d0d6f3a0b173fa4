/**
 * A local stand-in for Zoom Scribe live mode (`/v2/aiservices/scribe/live`). It follows the
 * documented protocol and CHECKS it: the `live-asr` subprotocol, a valid HS256 JWT (signature
 * with the configured secret, `iss` = key, unexpired, at most an hour long) in the Authorization
 * header or the `zoom-api-access-token.<jwt>` subprotocol, `session.update` with `audio.format`
 * `pcm16` before any audio, binary audio of whole 16-bit samples. It "recognises" the PCM with
 * {@link ToneRecognizer} and answers `transcription.completed` per turn (with a `[Speaker N]` tag
 * when diarization was asked), `session.closed` after `session.close`. Like Scribe it closes a
 * session that sends no audio for `idleCloseMs`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ToneRecognizer } from './cloud-tones.js';

export interface ScribeStandinOptions {
  apiKey: string;
  apiSecret: string;
  /** Terminate the socket (no close frame) once this much audio (ms) arrived. */
  dropAfterMs?: number;
  /** Close the session after this long without audio (Scribe: ~30 s). */
  idleCloseMs?: number;
}

export interface ScribeSessionRecord {
  auth: 'header' | 'subprotocol';
  update?: Record<string, unknown>;
  audioBytes: number;
  /** The client text events, in order. */
  messages: string[];
  closeRequested: boolean;
}

export class ZoomScribeStandin {
  readonly problems: string[] = [];
  readonly sessions: ScribeSessionRecord[] = [];
  #wss: WebSocketServer | undefined;

  constructor(private readonly options: ScribeStandinOptions) {}

  async listen(): Promise<string> {
    this.#wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      handleProtocols: (protocols) => (protocols.has('live-asr') ? 'live-asr' : false),
      verifyClient: (info, done) => {
        const why = this.#refuse(info.req);
        if (why) {
          this.problems.push(why);
          done(false, 401, why);
        } else done(true);
      },
    });
    this.#wss.on('connection', (ws, req) => this.#onConnection(ws, req));
    await new Promise<void>((resolve) => this.#wss!.once('listening', resolve));
    return `ws://127.0.0.1:${(this.#wss.address() as AddressInfo).port}/v2/aiservices/scribe/live`;
  }

  async close(): Promise<void> {
    for (const c of this.#wss?.clients ?? []) c.terminate();
    await new Promise<void>((resolve) => this.#wss?.close(() => resolve()) ?? resolve());
  }

  #token(req: IncomingMessage): { token?: string; via: 'header' | 'subprotocol' } {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) return { token: header.slice(7), via: 'header' };
    const proto = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .find((p) => p.startsWith('zoom-api-access-token.'));
    return { token: proto?.slice('zoom-api-access-token.'.length), via: 'subprotocol' };
  }

  /** Returns why the upgrade is refused, or undefined. */
  #refuse(req: IncomingMessage): string | undefined {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/v2/aiservices/scribe/live') return `wrong path ${req.url}`;
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!protocols.includes('live-asr')) return 'the live-asr subprotocol is missing';
    const { token } = this.#token(req);
    if (!token) return 'no JWT (Authorization: Bearer or zoom-api-access-token subprotocol)';
    const parts = token.split('.');
    if (parts.length !== 3) return 'the token is not a JWT';
    const [h, p, sig] = parts as [string, string, string];
    const expected = createHmac('sha256', this.options.apiSecret).update(`${h}.${p}`).digest();
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the JWT signature does not verify with the configured secret';
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { iss?: string; iat?: number; exp?: number };
    if (header.alg !== 'HS256') return `JWT alg ${header.alg} is not HS256`;
    if (claims.iss !== this.options.apiKey) return `JWT iss ${claims.iss} is not the configured key`;
    const now = Date.now() / 1000;
    if (!(typeof claims.exp === 'number' && claims.exp > now)) return 'the JWT is expired or has no exp';
    if (!(typeof claims.iat === 'number' && claims.iat <= now + 60)) return 'the JWT iat is missing or in the future';
    if (claims.exp - claims.iat > 3600 + 60) return 'the JWT lives longer than an hour';
    return undefined;
  }

  #onConnection(ws: WebSocket, req: IncomingMessage): void {
    const record: ScribeSessionRecord = { auth: this.#token(req).via, audioBytes: 0, messages: [], closeRequested: false };
    this.sessions.push(record);
    const send = (o: object): void => ws.send(JSON.stringify(o));
    const recognizer = new ToneRecognizer(16000);
    let diarize = false;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = (): void => {
      if (this.options.idleCloseMs === undefined) return;
      clearTimeout(idle);
      idle = setTimeout(() => {
        send({ type: 'session.closed', reason: 'idle_timeout' });
        ws.close(1000, 'idle');
      }, this.options.idleCloseMs);
    };
    const completed = (events: ReturnType<ToneRecognizer['feed']>): void => {
      for (const e of events) {
        if (!e.final) {
          if (e.words.length === 1) send({ type: 'input_audio_buffer.speech_started', audio_start_ms: e.words[0]!.startMs });
          continue;
        }
        const text = e.words.map((w) => w.text).join(' ') + '.';
        send({
          type: 'transcription.completed',
          transcript: diarize ? `[Speaker ${e.words[0]!.speaker}] ${text}` : text,
          audio_start_ms: e.words[0]!.startMs,
          audio_end_ms: e.words[e.words.length - 1]!.endMs,
        });
      }
    };
    ws.on('close', () => clearTimeout(idle));
    send({ type: 'session.created', session_id: `sess-${this.sessions.length}` });
    armIdle();
    ws.on('message', (data, isBinary) => {
      const buf = data as Buffer;
      if (isBinary) {
        if (!record.update) this.problems.push('audio before session.update');
        if (buf.length % 2) this.problems.push(`a binary frame of ${buf.length} bytes is not whole 16-bit samples`);
        record.audioBytes += buf.length;
        armIdle();
        completed(recognizer.feed(buf));
        if (this.options.dropAfterMs !== undefined && record.audioBytes / 32 >= this.options.dropAfterMs) ws.terminate();
        return;
      }
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(buf.toString()) as Record<string, unknown>;
      } catch {
        this.problems.push('a text frame that is not JSON');
        return;
      }
      record.messages.push(String(msg.type));
      if (msg.type === 'session.update') {
        const audio = msg.audio as { format?: unknown } | undefined;
        if (audio?.format !== 'pcm16') this.problems.push(`session.update audio.format ${String(audio?.format)} is not pcm16`);
        if (typeof msg.language !== 'string') this.problems.push('session.update without a language');
        diarize = (msg.transcription as { enable_diarization?: unknown } | undefined)?.enable_diarization === true;
        record.update = msg;
        send({ type: 'session.updated', session: { language: msg.language, audio: { format: 'pcm16', sample_rate: 16000 } } });
      } else if (msg.type === 'session.close') {
        record.closeRequested = true;
        completed(recognizer.end());
        send({ type: 'session.closed', reason: 'close_requested' });
        ws.close(1000, 'session closed');
      } else {
        this.problems.push(`unknown client event ${String(msg.type)}`);
      }
    });
  }
}
