/**
 * A bare `ws` client for emulator tests: speaks the wire protocol by hand (no RtmsClient), so the
 * tests check the emulator against PROTOCOL.md rather than against our own client.
 */
import WebSocket from 'ws';
import { rtmsSignature } from '../../src/protocol/index.js';
import { Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';

export const creds = { clientId: 'raw-client', clientSecret: 'raw-secret', secretToken: 'raw-token' };

export type Msg = Record<string, any>;

/** One socket with every JSON message it received, and waiters on them. */
export class RawSocket {
  readonly messages: Msg[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  /** When set, KEEP_ALIVE_REQ is answered. */
  answerKeepAlive = true;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => {});
    ws.on('message', (data) => {
      let m: Msg;
      try {
        m = JSON.parse(data.toString());
      } catch {
        m = { msg_type: -1, raw: data.toString().slice(0, 100) };
      }
      if (m.msg_type === 12 && this.answerKeepAlive) this.send({ msg_type: 13, timestamp: m.timestamp });
      this.messages.push(m);
      for (const w of [...this.#waiters]) {
        if (w.pred(m)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
  }

  static open(url: string): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const s = new RawSocket(ws);
      ws.once('open', () => resolve(s));
      ws.once('error', reject);
    });
  }

  send(m: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(typeof m === 'string' || Buffer.isBuffer(m) ? m : JSON.stringify(m));
  }

  /** The first message (already received or coming) that matches; rejects after `timeoutMs`. */
  next(pred: (m: Msg) => boolean, timeoutMs = 3000): Promise<Msg> {
    const have = this.messages.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms; got types ${[...new Set(this.messages.map((m) => m.msg_type))].join(',')}`)), timeoutMs);
      this.#waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  type(msgType: number, timeoutMs?: number): Promise<Msg> {
    return this.next((m) => m.msg_type === msgType, timeoutMs);
  }

  count(msgType: number, pred: (m: Msg) => boolean = () => true): number {
    return this.messages.filter((m) => m.msg_type === msgType && pred(m)).length;
  }

  close(): void {
    this.ws.terminate();
  }
}

/** The start webhook payload of a stream, whatever the product's id field. */
export interface StartPayload {
  rtms_stream_id: string;
  server_urls: string;
  meeting_uuid?: string;
  session_id?: string;
  engagement_id?: string;
  call_id?: string;
}

export const idOf = (p: StartPayload): string => p.meeting_uuid ?? p.session_id ?? p.engagement_id ?? p.call_id ?? '';
export const idField = (p: StartPayload): string => (p.meeting_uuid ? 'meeting_uuid' : p.session_id ? 'session_id' : p.engagement_id ? 'engagement_id' : 'call_id');

/** A correct handshake request (1 or 3) for a payload. */
export function handshake(p: StartPayload, msgType: 1 | 3, extra: Msg = {}, secret = creds.clientSecret): Msg {
  return {
    msg_type: msgType,
    protocol_version: 1,
    [idField(p)]: idOf(p),
    rtms_stream_id: p.rtms_stream_id,
    sequence: 1,
    signature: rtmsSignature(creds.clientId, secret, idOf(p), p.rtms_stream_id),
    ...extra,
  };
}

export interface Joined {
  signaling: RawSocket;
  media: RawSocket;
  signalingResp: Msg;
  dataResp: Msg;
  close(): void;
}

/** Both handshakes and CLIENT_READY_ACK, by hand. */
export async function joinRaw(p: StartPayload, opts: { mediaType?: number; mediaParams?: Msg; route?: string; ready?: boolean } = {}): Promise<Joined> {
  const signaling = await RawSocket.open(p.server_urls);
  signaling.send(handshake(p, 1));
  const signalingResp = await signaling.type(2);
  if (signalingResp.status_code !== 0) throw new Error(`signaling handshake failed: ${JSON.stringify(signalingResp)}`);
  const media = await RawSocket.open(signalingResp.media_server.server_urls[opts.route ?? 'all']);
  const extra: Msg = { media_type: opts.mediaType ?? 32 };
  if (opts.mediaParams) extra.media_params = opts.mediaParams;
  media.send(handshake(p, 3, extra));
  const dataResp = await media.type(4);
  if (dataResp.status_code === 0 && opts.ready !== false) signaling.send({ msg_type: 7, rtms_stream_id: p.rtms_stream_id });
  return {
    signaling,
    media,
    signalingResp,
    dataResp,
    close() {
      signaling.close();
      media.close();
    },
  };
}

/** An emulator with in-process webhooks; `payloads` fills as start webhooks are delivered. */
export async function startEmulator(opts: Partial<EmulatorOptions> = {}): Promise<{ emu: Emulator; payloads: StartPayload[]; bodies: Msg[] }> {
  const payloads: StartPayload[] = [];
  const bodies: Msg[] = [];
  const emu = new Emulator({
    ...creds,
    scenario: demoScenario(2),
    onWebhook: (body) => {
      bodies.push(body);
      if (String(body.event).endsWith('rtms_started')) payloads.push(body.payload as unknown as StartPayload);
    },
    ...opts,
  });
  await emu.start();
  return { emu, payloads, bodies };
}

/** The start payload of the emulator's first stream, without waiting for the webhook. */
export const firstPayload = (emu: Emulator): StartPayload => emu.startPayload(emu.streams[0]) as unknown as StartPayload;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
