/**
 * Behaves like Zoom's helper library (`RTMSManager`, zoom/rtms-samples library/javascript, July
 * 2026): split sockets (one per media type the server lists), recovery on any close:
 *  - a signaling close → both again after 3 s, to the URL of the first start webhook;
 *  - a media close while signaling is ready → that socket again after 3 s; otherwise both at once
 *    (unless a signaling socket is already open or opening);
 *  - status 8 with reason "duplicate signal request" → retry after 1.5 s, doubling, 3 times;
 *  - auth, request and stream failures, STREAM_STATE TERMINATED, SESSION_STATE STOPPED and
 *    `*.rtms_stopped` → no more reconnects. Repeated `*.rtms_started` and `*.rtms_interrupted` are ignored.
 * It subscribes to events 2, 3, 4 after the signaling handshake and sends CLIENT_READY_ACK after
 * every media handshake. `timeScale` shrinks the delays for tests.
 */
import WebSocket from 'ws';
import { statusCategory } from '../../../src/protocol/index.js';
import { closeQuietly, countFrame, idOf, openSocket, send, signature, zeroFrames, type ConformanceClient, type Credentials, type Frames, type Msg, type Webhook } from './common.js';

/** Media types as the library names them, with their bitmask flag and server URL key. */
const TYPES = [
  { type: 'audio', flag: 1, key: 'audio' },
  { type: 'video', flag: 2, key: 'video' },
  { type: 'sharescreen', flag: 4, key: 'deskshare' },
  { type: 'transcript', flag: 8, key: 'transcript' },
  { type: 'chat', flag: 16, key: 'chat' },
] as const;

/** The library's default media parameters, sent whole on every media socket. */
const MEDIA_PARAMS = {
  audio: { content_type: 1, sample_rate: 1, channel: 1, codec: 1, data_opt: 1, send_rate: 100 },
  video: { codec: 7, data_opt: 3, resolution: 2, fps: 25 },
  deskshare: { codec: 5, resolution: 2, fps: 1 },
  chat: { content_type: 5 },
  transcript: { content_type: 5 },
};

interface Conn {
  id: string;
  streamId: string;
  serverUrls: string;
  shouldReconnect: boolean;
  signaling?: WebSocket;
  signalingReady: boolean;
  media: Map<string, { ws?: WebSocket; url: string; flag: number }>;
  duplicateRetries: number;
  suppressCloseOf?: WebSocket;
  timers: Set<NodeJS.Timeout>;
}

export class LibraryLikeClient implements ConformanceClient {
  readonly name = 'helper library';
  #conns = new Map<string, Conn>();
  #frames = new Map<string, Frames>();

  constructor(
    private readonly creds: Credentials,
    private readonly timeScale = 1,
  ) {}

  frames(streamId: string): Frames {
    return this.#frames.get(streamId) ?? zeroFrames();
  }

  webhook({ event, payload }: Webhook): void {
    const streamId = payload.rtms_stream_id as string;
    if (event.endsWith('rtms_started')) {
      if (this.#conns.has(streamId)) return; // "duplicate stream ID": ignored
      const conn: Conn = { id: idOf(payload), streamId, serverUrls: payload.server_urls, shouldReconnect: true, signalingReady: false, media: new Map(), duplicateRetries: 0, timers: new Set() };
      this.#conns.set(streamId, conn);
      this.#connect(conn);
    } else if (event.endsWith('rtms_stopped')) {
      const conn = this.#conns.get(streamId);
      if (conn) this.#stop(conn);
    }
  }

  close(): void {
    for (const c of this.#conns.values()) this.#stop(c);
  }

  #later(conn: Conn, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      conn.timers.delete(t);
      if (conn.shouldReconnect) fn();
    }, ms * this.timeScale);
    conn.timers.add(t);
  }

  #connect(conn: Conn): void {
    if (!conn.shouldReconnect) return;
    if (conn.signaling && conn.signaling.readyState !== WebSocket.CLOSED) return; // a connect is under way
    conn.signalingReady = false;
    const ws = openSocket(
      conn.serverUrls,
      (m) => this.#onSignaling(conn, ws, m),
      () => send(ws, { msg_type: 1, protocol_version: 1, meeting_uuid: conn.id, rtms_stream_id: conn.streamId, sequence: 1, signature: signature(this.creds, conn.id, conn.streamId), buffer_data: false }),
      () => {
        if (conn.signaling === ws) {
          conn.signaling = undefined;
          conn.signalingReady = false;
        }
        if (conn.suppressCloseOf === ws) return void (conn.suppressCloseOf = undefined);
        this.#later(conn, 3000, () => this.#connect(conn));
      },
    );
    conn.signaling = ws;
  }

  #onSignaling(conn: Conn, ws: WebSocket, m: Msg): void {
    if (conn.signaling !== ws) return;
    switch (m.msg_type) {
      case 2: {
        if (m.status_code === 0) {
          conn.signalingReady = true;
          conn.duplicateRetries = 0;
          const urls: Record<string, string> = m.media_server?.server_urls ?? {};
          for (const t of TYPES) if (urls[t.key]) this.#connectMedia(conn, t.type, urls[t.key], t.flag);
          send(ws, { msg_type: 5, events: [2, 3, 4].map((event_type) => ({ event_type, subscribe: true })) });
          return;
        }
        if (String(m.reason ?? '').toLowerCase().includes('duplicate signal request') && conn.duplicateRetries < 3) {
          const delay = 1500 * 2 ** conn.duplicateRetries++;
          conn.suppressCloseOf = ws;
          closeQuietly(ws);
          this.#later(conn, delay, () => this.#connect(conn));
          return;
        }
        if (['auth', 'request', 'stream'].includes(statusCategory(m.status_code))) conn.shouldReconnect = false;
        return;
      }
      case 12:
        send(ws, { msg_type: 13, timestamp: m.timestamp });
        return;
      case 8:
        if (m.state === 4) this.#stop(conn);
        return;
      case 9:
        if (m.state === 5) conn.shouldReconnect = false;
        return;
    }
  }

  #connectMedia(conn: Conn, type: string, url: string, flag: number): void {
    const entry = conn.media.get(type) ?? { url, flag };
    conn.media.set(type, entry);
    entry.url = url;
    const signalingAtStart = conn.signaling;
    const ws = openSocket(
      url,
      (m) => {
        if (m.msg_type === 4) {
          if (m.status_code === 0) send(signalingAtStart, { msg_type: 7, rtms_stream_id: conn.streamId });
          else {
                if (['auth', 'request', 'stream'].includes(statusCategory(m.status_code))) conn.shouldReconnect = false;
          }
        } else if (m.msg_type === 12) send(ws, { msg_type: 13, timestamp: m.timestamp });
        else countFrame(this.#frames, conn.streamId, m.msg_type);
      },
      () =>
        send(ws, { msg_type: 3, protocol_version: 1, meeting_uuid: conn.id, rtms_stream_id: conn.streamId, signature: signature(this.creds, conn.id, conn.streamId), media_type: flag, payload_encryption: false, media_params: MEDIA_PARAMS }),
      () => {
        if (entry.ws === ws) entry.ws = undefined;
        if (!conn.shouldReconnect) return;
        if (conn.signalingReady && conn.signaling?.readyState === WebSocket.OPEN) this.#later(conn, 3000, () => this.#connectMedia(conn, type, entry.url, flag));
        else this.#connect(conn);
      },
    );
    entry.ws = ws;
  }

  #stop(conn: Conn): void {
    conn.shouldReconnect = false;
    for (const t of conn.timers) clearTimeout(t);
    conn.timers.clear();
    closeQuietly(conn.signaling);
    for (const m of conn.media.values()) closeQuietly(m.ws);
    this.#conns.delete(conn.streamId);
  }
}
