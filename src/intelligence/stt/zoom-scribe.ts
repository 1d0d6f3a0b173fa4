/**
 * Zoom Scribe live mode (Zoom AI Services), spoken directly with `ws`: Zoom ships no Node SDK for it.
 *
 * Wire protocol, from Zoom's "Scribe › Live mode" page and its rtms-samples Scribe sample:
 * - connect `wss://api.zoom.us/v2/aiservices/scribe/live` with the WebSocket subprotocol `live-asr`
 *   and `Authorization: Bearer <JWT>`; the JWT is HS256, `iss` = the Build key, signed with the
 *   Build secret, at most one hour long;
 * - the server greets with `session.created`; the client sends `session.update`
 *   (`language`, `audio.format: "pcm16"` = 16 kHz mono s16le, `transcription.enable_diarization`);
 *   the server answers `session.updated`, after which audio flows as binary frames;
 * - results are turn-final `transcription.completed` events (`transcript`, `audio_start_ms`,
 *   `audio_end_ms`); with diarization the transcript carries a `[Speaker N]` tag; there are no
 *   interim results; `error` events carry `{code, message, fatal}`;
 * - the client ends with `{"type":"session.close"}`; the server flushes the last turn, sends
 *   `session.closed` and closes the socket.
 *
 * Choices where the docs are silent (also in docs/stt-providers.md):
 * - Scribe ends a session after ~30 s without audio (per the Pipecat integration). When the sink
 *   sends nothing for `keepAliveAfterMs`, the adapter sends 100 ms of silence every
 *   `keepAliveAfterMs`, and subtracts that inserted silence from later result times so that times
 *   stay "ms from the first sample sent by the sink". WebSocket pings are sent too.
 * - `auth: 'subprotocol'` presents the JWT as a second subprotocol `zoom-api-access-token.<jwt>`,
 *   as Zoom's RTMS sample does, for deployments that cannot set headers; the default is the header.
 */
import { createHmac } from 'node:crypto';
import WebSocket from 'ws';
import { ConfigError, OpenRtmsError } from '../../errors.js';
import { SilenceKeepAlive } from './keepalive-silence.js';
import type { SttAdapter, SttConnection, SttConnectionOptions, SttHandlers, SttResult } from './types.js';

/** Options of {@link createZoomScribeAdapter}. */
export interface ZoomScribeOptions {
  /** Zoom Build (AI Services) API key: the JWT's `iss`. Required unless `accessToken` is given. */
  apiKey?: string;
  /** Zoom Build (AI Services) API secret: signs the HS256 JWT. Required unless `accessToken` is given. */
  apiSecret?: string;
  /** A ready-made bearer token (a JWT minted elsewhere, or an AI Services API key), used as is. */
  accessToken?: string;
  /** Full live endpoint URL. Default `wss://api.zoom.us/v2/aiservices/scribe/live` (a stand-in: `ws://127.0.0.1:PORT/…`). */
  baseUrl?: string;
  /** Scribe locale when the connection carries no language (`en-US`, `de-DE`, …). Default `en-US`. */
  language?: string;
  /** Where the token goes: the documented `Authorization` header (default) or the sample's `zoom-api-access-token.<jwt>` subprotocol. */
  auth?: 'header' | 'subprotocol';
  /** JWT lifetime in seconds (Zoom allows at most 3600). Default 3600. */
  tokenTtlSeconds?: number;
  /** How long `open()` waits for `session.updated`. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** How long `finish()` waits for `session.closed` and the socket close. Default 10 000 ms. */
  finishTimeoutMs?: number;
  /** Silence keep-alive after this long without audio (Scribe drops idle sessions after ~30 s). Default 10 000 ms; 0 disables. */
  keepAliveAfterMs?: number;
}

const PROVIDER = 'zoom-scribe';
export const ZOOM_SCRIBE_LIVE_URL = 'wss://api.zoom.us/v2/aiservices/scribe/live';
/** Scribe live accepts 16 kHz mono PCM16 only. */
const SCRIBE_RATE = 16000;
const KEEPALIVE_SILENCE_MS = 100;

/** An HS256 JWT for Zoom AI Services: `{iss: apiKey, iat, exp}`, `iat` 30 s in the past for clock skew. */
export function zoomScribeJwt(apiKey: string, apiSecret: string, ttlSeconds = 3600, nowMs = Date.now()): string {
  const iat = Math.floor(nowMs / 1000) - 30;
  const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ iss: apiKey, iat, exp: iat + ttlSeconds })}`;
  return `${unsigned}.${createHmac('sha256', apiSecret).update(unsigned).digest('base64url')}`;
}

/**
 * An {@link SttAdapter} for Zoom Scribe live. Results are final only (one per speech turn);
 * `diarize` asks Scribe to tag speakers (`[Speaker N]` → `speaker: "N"`).
 * `onClose` is called exactly once per connection; after `close()` it reports `expected: true`.
 */
export function createZoomScribeAdapter(options: ZoomScribeOptions): SttAdapter {
  if (!options.accessToken && !(options.apiKey && options.apiSecret)) {
    throw new ConfigError('CONFIG_MISSING', 'zoom-scribe: set apiKey and apiSecret (Zoom Build credentials) or accessToken');
  }
  const ttl = options.tokenTtlSeconds ?? 3600;
  if (!(ttl > 0 && ttl <= 3600)) throw new ConfigError('CONFIG_INVALID', `zoom-scribe: tokenTtlSeconds ${ttl} must be in 1–3600`);
  const url = options.baseUrl ?? ZOOM_SCRIBE_LIVE_URL;
  if (!/^wss?:\/\//.test(url)) throw new ConfigError('CONFIG_INVALID', `zoom-scribe: baseUrl ${url} is not a ws:// or wss:// URL`);
  return {
    provider: PROVIDER,
    sampleRate: SCRIBE_RATE,
    open: (conn, handlers) => ScribeConnection.open({ ...options, url, ttl }, conn, handlers),
  };
}

type Resolved = ZoomScribeOptions & { url: string; ttl: number };

class ScribeConnection implements SttConnection {
  #state: 'open' | 'finishing' | 'closed' = 'open';
  #reported = false;
  readonly #silence: SilenceKeepAlive;
  #timer: NodeJS.Timeout | undefined;
  #sessionClosed: (() => void) | undefined;

  private constructor(
    private readonly ws: WebSocket,
    private readonly opts: Resolved,
    private readonly handlers: SttHandlers,
  ) {
    this.#silence = new SilenceKeepAlive(SCRIBE_RATE, opts.keepAliveAfterMs ?? 10_000, KEEPALIVE_SILENCE_MS);
  }

  static open(opts: Resolved, conn: SttConnectionOptions, handlers: SttHandlers): Promise<SttConnection> {
    if (conn.sampleRate !== SCRIBE_RATE) {
      return Promise.reject(new OpenRtmsError('STT_CONNECT_FAILED', `zoom-scribe: live mode takes 16000 Hz PCM only, not ${conn.sampleRate}`, { provider: PROVIDER }));
    }
    const token = opts.accessToken ?? zoomScribeJwt(opts.apiKey!, opts.apiSecret!, opts.ttl);
    const viaHeader = (opts.auth ?? 'header') === 'header';
    const ws = new WebSocket(opts.url, viaHeader ? ['live-asr'] : ['live-asr', `zoom-api-access-token.${token}`], {
      ...(viaHeader ? { headers: { Authorization: `Bearer ${token}` } } : {}),
      handshakeTimeout: opts.connectTimeoutMs ?? 10_000,
    });
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (why: string, cause?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(new OpenRtmsError('STT_CONNECT_FAILED', `zoom-scribe: ${why} (${conn.label})`, { provider: PROVIDER, label: conn.label }, cause === undefined ? undefined : { cause }));
      };
      const timer = setTimeout(() => fail(`no session.updated within ${opts.connectTimeoutMs ?? 10_000} ms`), opts.connectTimeoutMs ?? 10_000);
      ws.on('unexpected-response', (_req, res) => fail(`the server refused the WebSocket upgrade with HTTP ${res.statusCode}`));
      ws.on('error', (err) => fail(`cannot connect to ${opts.url}: ${err.message}`, err));
      ws.on('close', (code, reason) => fail(`the server closed the socket during setup (${code} ${reason.toString()})`));
      ws.on('open', () => {
        if (ws.protocol !== 'live-asr') return fail(`the server did not accept the live-asr subprotocol (got "${ws.protocol}")`);
        ws.send(
          JSON.stringify({
            type: 'session.update',
            language: conn.language ?? opts.language ?? 'en-US',
            audio: { format: 'pcm16' },
            transcription: { enable_diarization: conn.diarize },
          }),
        );
      });
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const event = parseEvent(data);
        if (event?.type === 'session.updated') {
          settled = true;
          clearTimeout(timer);
          ws.removeAllListeners();
          const c = new ScribeConnection(ws, opts, handlers);
          c.#attach();
          resolve(c);
        } else if (event?.type === 'error') {
          fail(`session refused: ${describeError(event)}`);
        }
      });
    });
  }

  #attach(): void {
    this.ws.on('message', (data, isBinary) => {
      if (!isBinary) this.#onEvent(data);
    });
    this.ws.on('error', (err) => this.handlers.onWarning?.(`zoom-scribe: socket error: ${err.message}`));
    this.ws.on('close', (code, reason) => {
      this.#stopTimer();
      this.#sessionClosed?.();
      this.#report(this.#state === 'open' ? { expected: false, code, reason: reason.toString() || 'zoom-scribe closed the socket' } : { expected: true, code });
    });
    // Pings keep proxies from idling the socket out; silence keeps Scribe's session alive.
    const after = this.#silence.afterMs > 0 ? this.#silence.afterMs : 15_000;
    this.#timer = setInterval(() => this.#keepAlive(), Math.min(after, 5_000));
    this.#timer.unref();
  }

  #keepAlive(): void {
    if (this.#state !== 'open' || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.ping();
    const silence = this.#silence.due();
    if (silence) this.ws.send(silence);
  }

  #onEvent(data: WebSocket.RawData): void {
    const event = parseEvent(data);
    if (!event) {
      this.handlers.onWarning?.('zoom-scribe: a text message that is not a JSON event');
      return;
    }
    switch (event.type) {
      case 'transcription.completed': {
        const result = this.#mapResult(event);
        if (result) this.handlers.onResult(result);
        break;
      }
      case 'error':
        this.handlers.onWarning?.(`zoom-scribe: ${describeError(event)}`);
        break;
      case 'session.closed':
        this.#sessionClosed?.();
        if (this.#state === 'open') this.handlers.onWarning?.(`zoom-scribe: session closed by the server (${String(event.reason ?? 'no reason')})`);
        break;
      default:
        break; // session.created, input_audio_buffer.*: nothing to do
    }
  }

  #mapResult(event: ScribeEvent): SttResult | undefined {
    const raw = typeof event.transcript === 'string' ? event.transcript : '';
    const tag = SPEAKER_TAG.exec(raw);
    const text = raw.replace(SPEAKER_TAGS, '').trim();
    if (!text) return undefined;
    const speaker = tag ? (tag[1] ?? tag[2] ?? tag[3]) : undefined;
    return {
      text,
      final: true,
      startMs: this.#silence.toLocal(num(event.audio_start_ms)),
      endMs: this.#silence.toLocal(num(event.audio_end_ms)),
      ...(speaker !== undefined ? { speaker } : {}),
      ...(typeof event.language === 'string' ? { language: event.language } : {}),
    };
  }

  send(pcm: Buffer): void {
    if (this.#state !== 'open' || this.ws.readyState !== WebSocket.OPEN || pcm.length === 0) return;
    this.ws.send(pcm);
    this.#silence.noteAudio(pcm.length);
  }

  async finish(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'finishing';
    this.#stopTimer();
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const timeout = this.opts.finishTimeoutMs ?? 10_000;
    const closed = new Promise<void>((resolve) => {
      this.#sessionClosed = resolve;
    });
    this.ws.send(JSON.stringify({ type: 'session.close' }));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeout)));
    if (await Promise.race([closed.then(() => false), timedOut])) {
      this.handlers.onWarning?.(`zoom-scribe: no session.closed ${timeout} ms after session.close`);
    }
    clearTimeout(timer);
    // Scribe closes the socket after session.closed; wait for that close (bounded), else close it ourselves.
    if ((this.ws.readyState as number) !== WebSocket.CLOSED) {
      const socketClosed = new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
      if ((this.ws.readyState as number) === WebSocket.OPEN) this.ws.close(1000, 'finished');
      await Promise.race([socketClosed, new Promise((r) => setTimeout(r, 2_000).unref())]);
      if ((this.ws.readyState as number) !== WebSocket.CLOSED) this.ws.terminate();
    }
    this.#report({ expected: true });
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#stopTimer();
    this.#report({ expected: true, reason: 'closed by client' });
    this.ws.terminate();
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #report(info: { expected: boolean; reason?: string; code?: number }): void {
    if (this.#reported) return;
    this.#reported = true;
    this.handlers.onClose(info);
  }
}

interface ScribeEvent {
  type?: string;
  transcript?: unknown;
  audio_start_ms?: unknown;
  audio_end_ms?: unknown;
  language?: unknown;
  reason?: unknown;
  error?: { code?: unknown; message?: unknown; fatal?: unknown };
}

/** Scribe's diarization tags (`[Speaker 1]`, `[spk_1]`, `[channel1]`). */
const SPEAKER_TAG = /\[(?:Speaker (\d+)|spk_(\d+)|channel(\d+))\]/;
const SPEAKER_TAGS = /\[(?:Speaker \d+|spk_\d+|channel\d+)\]\s*/g;

function parseEvent(data: WebSocket.RawData): ScribeEvent | undefined {
  try {
    const v: unknown = JSON.parse(data.toString());
    return v && typeof v === 'object' ? (v as ScribeEvent) : undefined;
  } catch {
    return undefined;
  }
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

const describeError = (e: ScribeEvent): string =>
  `error ${String(e.error?.code ?? '?')}: ${String(e.error?.message ?? 'no message')}${e.error?.fatal ? ' (fatal)' : ''}`;
