/**
 * Behaves like Zoom's reconnection sample (rtms_api/reconnection_and_chaos_mode_js): one signaling
 * and one media socket per stream, and recovery driven only by Zoom's signals, never by a close:
 *  1. a new `*.rtms_started` for a stream it has → close both, connect at once to the new URLs;
 *  2. `*.rtms_interrupted` → close both, reconnect both after 3 s × 2^attempts (capped at 30 s);
 *  3. MEDIA_CONNECTION_INTERRUPTED, or STREAM_STATE INTERRUPTED with reason 14 → media only, same backoff;
 *  4. `*.rtms_stopped` or STREAM_STATE TERMINATED → clean up.
 * CLIENT_READY_ACK goes on signaling after every media handshake. `timeScale` shrinks the delays for tests.
 */
import type WebSocket from 'ws';
import { closeQuietly, countFrame, idOf, openSocket, send, signature, zeroFrames, type ConformanceClient, type Credentials, type Frames, type Msg, type Webhook } from './common.js';

interface Conn {
  id: string;
  streamId: string;
  serverUrls: string;
  signaling?: WebSocket;
  media?: WebSocket;
  mediaUrl?: string;
  state: 'CONNECTING' | 'STREAMING' | 'RECONNECTING' | 'STOPPED';
  attempts: number;
  timer?: NodeJS.Timeout;
}

export class SampleLikeClient implements ConformanceClient {
  readonly name = 'reconnection sample';
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
      const existing = this.#conns.get(streamId);
      if (existing) this.#cleanup(existing); // case 1: the RTMS server failed; start afresh at the new URLs
      const conn: Conn = { id: idOf(payload), streamId, serverUrls: payload.server_urls, state: existing ? 'RECONNECTING' : 'CONNECTING', attempts: 0 };
      this.#conns.set(streamId, conn);
      this.#connectSignaling(conn);
    } else if (event.endsWith('rtms_interrupted')) {
      const conn: Conn = this.#conns.get(streamId) ?? { id: idOf(payload), streamId, serverUrls: payload.server_urls, state: 'CONNECTING', attempts: 0 };
      this.#conns.set(streamId, conn);
      closeQuietly(conn.signaling);
      closeQuietly(conn.media);
      if (payload.server_urls) conn.serverUrls = payload.server_urls;
      conn.state = 'RECONNECTING';
      conn.attempts++;
      clearTimeout(conn.timer);
      conn.timer = setTimeout(() => this.#connectSignaling(conn), this.#delay(conn.attempts));
    } else if (event.endsWith('rtms_stopped')) {
      const conn = this.#conns.get(streamId);
      if (conn) this.#cleanup(conn);
    }
  }

  close(): void {
    for (const c of this.#conns.values()) this.#cleanup(c);
  }

  #delay(attempts: number): number {
    return Math.min(3000 * 2 ** attempts, 30_000) * this.timeScale;
  }

  #connectSignaling(conn: Conn): void {
    if (conn.state === 'STOPPED') return;
    const ws = openSocket(
      conn.serverUrls,
      (m) => this.#onSignaling(conn, m),
      () => send(ws, { msg_type: 1, protocol_version: 1, meeting_uuid: conn.id, rtms_stream_id: conn.streamId, sequence: 1, signature: signature(this.creds, conn.id, conn.streamId), buffer_data: false }),
      () => {
        if (conn.signaling === ws) conn.signaling = undefined; // no reconnect on a close alone
      },
    );
    conn.signaling = ws;
  }

  #onSignaling(conn: Conn, m: Msg): void {
    switch (m.msg_type) {
      case 2:
        if (m.status_code !== 0) return;
        conn.mediaUrl = m.media_server?.server_urls?.all;
        conn.attempts = 0;
        this.#connectMedia(conn);
        return;
      case 12:
        send(conn.signaling, { msg_type: 13, timestamp: m.timestamp });
        return;
      case 6:
        if (m.event?.event_type === 7) this.#mediaOnly(conn); // case 3
        return;
      case 8:
        if (m.state === 2 && m.reason === 14 && conn.state !== 'RECONNECTING') this.#mediaOnly(conn);
        else if (m.state === 4) this.#cleanup(conn); // case 4
        return;
    }
  }

  #connectMedia(conn: Conn): void {
    if (conn.state === 'STOPPED' || !conn.mediaUrl) return;
    const ws = openSocket(
      conn.mediaUrl,
      (m) => {
        if (m.msg_type === 4 && m.status_code === 0) {
          conn.state = 'STREAMING';
          conn.attempts = 0;
          send(conn.signaling, { msg_type: 7, rtms_stream_id: conn.streamId });
        } else if (m.msg_type === 12) send(ws, { msg_type: 13, timestamp: m.timestamp });
        else countFrame(this.#frames, conn.streamId, m.msg_type);
      },
      () => send(ws, { msg_type: 3, protocol_version: 1, meeting_uuid: conn.id, rtms_stream_id: conn.streamId, signature: signature(this.creds, conn.id, conn.streamId), media_type: 32, payload_encryption: false }),
      () => {
        if (conn.media === ws) conn.media = undefined;
      },
    );
    conn.media = ws;
  }

  #mediaOnly(conn: Conn): void {
    closeQuietly(conn.media);
    conn.media = undefined;
    conn.state = 'RECONNECTING';
    conn.attempts++;
    clearTimeout(conn.timer);
    conn.timer = setTimeout(() => this.#connectMedia(conn), this.#delay(conn.attempts));
  }

  #cleanup(conn: Conn): void {
    conn.state = 'STOPPED';
    clearTimeout(conn.timer);
    closeQuietly(conn.signaling);
    closeQuietly(conn.media);
    this.#conns.delete(conn.streamId);
  }
}
