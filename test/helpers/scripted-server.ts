/**
 * A scripted RTMS server for client unit tests: accepts signaling and media sockets on loopback,
 * answers the handshakes correctly by default, and lets a test override or inject any message.
 * (The full Zoom-side emulator lives in src/emulator; this is deliberately small and explicit.)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface Conn {
  ws: WebSocket;
  path: string;
  received: Record<string, unknown>[];
}

export interface ScriptOptions {
  /** status_code of SIGNALING_HAND_SHAKE_RESP (default 0). */
  signalingStatus?: number;
  /** status_code of DATA_HAND_SHAKE_RESP (default 0). */
  dataStatus?: number;
  /** Do not answer the signaling handshake at all. */
  silentSignaling?: boolean;
}

export class ScriptedServer {
  readonly connections: Conn[] = [];
  opts: ScriptOptions;
  #http: Server;
  #wss = new WebSocketServer({ noServer: true });
  port = 0;
  #listeners: ((c: Conn, m: Record<string, unknown>) => void)[] = [];

  constructor(opts: ScriptOptions = {}) {
    this.opts = opts;
    this.#http = createServer();
    this.#http.on('upgrade', (req, socket, head) => {
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req.url ?? '/'));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#http.listen(0, '127.0.0.1', r));
    this.port = (this.#http.address() as AddressInfo).port;
    return this;
  }

  get signalingUrl(): string {
    return `ws://127.0.0.1:${this.port}/signaling`;
  }

  payload(extra: Record<string, unknown> = {}) {
    return { meeting_uuid: 'm/uuid+=', rtms_stream_id: 'stream-1', server_urls: this.signalingUrl, ...extra };
  }

  /** Resolves with the next message matching the predicate. */
  next(pred: (c: Conn, m: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<{ conn: Conn; msg: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a client message')), timeoutMs);
      const l = (c: Conn, m: Record<string, unknown>) => {
        if (!pred(c, m)) return;
        clearTimeout(timer);
        this.#listeners = this.#listeners.filter((x) => x !== l);
        resolve({ conn: c, msg: m });
      };
      this.#listeners.push(l);
    });
  }

  signaling(): Conn[] {
    return this.connections.filter((c) => c.path.startsWith('/signaling'));
  }
  media(): Conn[] {
    return this.connections.filter((c) => c.path.startsWith('/media'));
  }
  openMedia(): Conn[] {
    return this.media().filter((c) => c.ws.readyState === 1);
  }

  /** Sends a message to every open socket whose path starts with the prefix. */
  broadcast(prefix: string, msg: unknown): void {
    for (const c of this.connections) if (c.path.startsWith(prefix) && c.ws.readyState === 1) c.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  #accept(ws: WebSocket, path: string): void {
    const conn: Conn = { ws, path, received: [] };
    this.connections.push(conn);
    ws.on('message', (data) => {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(data.toString());
      } catch {
        return;
      }
      conn.received.push(m);
      this.#auto(conn, m);
      for (const l of [...this.#listeners]) l(conn, m);
    });
  }

  #auto(conn: Conn, m: Record<string, unknown>): void {
    const base = `ws://127.0.0.1:${this.port}`;
    if (m.msg_type === 1 && !this.opts.silentSignaling) {
      conn.ws.send(
        JSON.stringify({
          msg_type: 2,
          protocol_version: 1,
          status_code: this.opts.signalingStatus ?? 0,
          reason: '',
          media_server: { server_urls: { all: `${base}/media/all`, audio: `${base}/media/audio`, video: `${base}/media/video`, transcript: `${base}/media/transcript` } },
        }),
      );
    } else if (m.msg_type === 3) {
      conn.ws.send(JSON.stringify({ msg_type: 4, protocol_version: 1, status_code: this.opts.dataStatus ?? 0, reason: '', sequence: 0, payload_encrypted: false, media_params: m.media_params }));
    } else if (m.msg_type === 21) {
      conn.ws.send(JSON.stringify({ msg_type: 22, rtms_stream_id: m.rtms_stream_id, status_code: 0 }));
    } else if (m.msg_type === 28) {
      conn.ws.send(JSON.stringify({ msg_type: 29, rtms_stream_id: m.rtms_stream_id, user_id: m.user_id, status_code: 0 }));
    }
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.ws.terminate();
    this.#wss.close();
    await new Promise<void>((r) => this.#http.close(() => r()));
  }
}
