/**
 * One client's connection to an emulated stream: its signaling socket, its media sockets with the
 * parameters each was granted, and keep-alive supervision of every socket.
 */
import WebSocket from 'ws';
import type { AudioConfig, MediaKind, TranscriptConfig, VideoConfig } from '../protocol/index.js';
import { MsgType } from '../protocol/index.js';
import type { AudioEncoder } from '../media/codec.js';
import type { Counters } from './summary.js';

export interface MediaSocket {
  ws: WebSocket;
  /** `all` or one media kind, from the URL path. */
  route: string;
  handshaken: boolean;
  kinds: Set<MediaKind>;
  audio?: { cfg: AudioConfig; encoder: AudioEncoder; rate: number; channels: number };
  video?: VideoConfig;
  deskshare?: VideoConfig;
  transcript?: TranscriptConfig;
  /** Next access unit / frame index to send, per video kind. */
  videoIndex: number;
  shareIndex: number;
  lastVideoFrame: number;
  lastShareFrame: number;
  lastVideoUser?: number;
  supervisor?: KeepAlive;
}

/**
 * Keep-alive supervision of one socket: sends KEEP_ALIVE_REQ every `intervalMs` and closes the
 * socket (counted in `keepalive.missed`) when the client has sent nothing — no KEEP_ALIVE_RESP nor
 * any other frame — for `toleranceMs`. While the connection is stalled (fault `stall`) the server
 * behaves as if hung: it sends nothing and its silence clock does not run.
 */
export class KeepAlive {
  /** Date.now() of the last frame from the client (or of the end of a stall). */
  lastSeen = Date.now();
  #interval: NodeJS.Timeout;
  #watchdog?: NodeJS.Timeout;
  #stopped = false;

  constructor(
    readonly ws: WebSocket,
    intervalMs: number,
    private readonly toleranceMs: number,
    private readonly counters: Counters,
    private readonly isStalled: () => boolean,
  ) {
    this.#interval = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return this.stop();
      if (isStalled()) return;
      counters.keepalive.sent++;
      ws.send(JSON.stringify({ msg_type: MsgType.KEEP_ALIVE_REQ, timestamp: Date.now() }));
    }, intervalMs);
    this.#interval.unref();
    this.#arm(toleranceMs);
  }

  /** The client sent a frame. */
  seen(): void {
    this.lastSeen = Date.now();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#interval);
    if (this.#watchdog) clearTimeout(this.#watchdog);
  }

  #arm(ms: number): void {
    if (this.#stopped) return;
    this.#watchdog = setTimeout(() => this.#check(), Math.max(1, ms));
    this.#watchdog.unref();
  }

  #check(): void {
    if (this.#stopped) return;
    if (this.ws.readyState !== WebSocket.OPEN) return this.stop();
    if (this.isStalled()) {
      this.lastSeen = Date.now();
      return this.#arm(Math.min(this.toleranceMs, 250));
    }
    const silent = Date.now() - this.lastSeen;
    if (silent >= this.toleranceMs) {
      this.counters.keepalive.missed++;
      this.stop();
      this.ws.terminate();
      return;
    }
    this.#arm(this.toleranceMs - silent);
  }
}

let nextId = 1;

export class Connection {
  readonly id = nextId++;
  readonly media: MediaSocket[] = [];
  /** CLIENT_READY_ACK received. */
  ready = false;
  /** Scenario time (ms) when the client became ready. */
  readyAtMs = -1;
  /** Scenario time until which this connection is stalled (sends and answers nothing). */
  stalledUntilMs = -1;
  /** Event types the client subscribed to; null = the default (all). */
  events: Set<number> | null = null;
  /** Media kinds this client asked for in any data handshake (a closed socket's kinds stay). */
  readonly requested = new Set<MediaKind>();
  /** Participant chosen with VIDEO_SUBSCRIPTION_REQ. */
  videoUser?: number;
  closed = false;
  signalingSupervisor?: KeepAlive;

  constructor(readonly signaling: WebSocket) {}

  isStalled(nowMs: number): boolean {
    return nowMs < this.stalledUntilMs;
  }

  /**
   * Whether a frame of this kind that cannot be delivered counts as missed: the client asked for
   * the kind (its socket is gone) — a kind never asked for is simply not sent.
   */
  misses(kind: MediaKind): boolean {
    return this.requested.has(kind);
  }

  /** The handshaken media socket that carries a kind, if any. */
  socketFor(kind: MediaKind): MediaSocket | undefined {
    for (const m of this.media) if (m.handshaken && m.kinds.has(kind) && m.ws.readyState === WebSocket.OPEN) return m;
    return undefined;
  }

  /** Ends every socket: politely (close code) or abruptly (terminate). */
  close(code?: number, reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.signalingSupervisor?.stop();
    for (const m of this.media) m.supervisor?.stop();
    for (const ws of [this.signaling, ...this.media.map((m) => m.ws)]) {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
        if (code === undefined) ws.terminate();
        else ws.close(code, reason);
      }
    }
    for (const m of this.media) m.audio?.encoder.destroy?.();
  }
}
