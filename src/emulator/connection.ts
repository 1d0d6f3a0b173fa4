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

/** Sends KEEP_ALIVE_REQ every interval and closes a socket whose client stays silent past the tolerance. */
export class KeepAlive {
  lastSeen = Date.now();
  #timer: NodeJS.Timeout;
  constructor(
    readonly ws: WebSocket,
    intervalMs: number,
    toleranceMs: number,
    counters: Counters,
    isStalled: () => boolean,
  ) {
    this.#timer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return this.stop();
      if (Date.now() - this.lastSeen > toleranceMs) {
        counters.keepalive.missed++;
        this.stop();
        ws.terminate();
        return;
      }
      if (isStalled()) return;
      counters.keepalive.sent++;
      ws.send(JSON.stringify({ msg_type: MsgType.KEEP_ALIVE_REQ, timestamp: Date.now() }));
    }, intervalMs);
    this.#timer.unref();
  }
  seen(): void {
    this.lastSeen = Date.now();
  }
  stop(): void {
    clearInterval(this.#timer);
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
