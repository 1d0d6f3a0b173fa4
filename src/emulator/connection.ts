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
  /** CLIENT_READY_ACK received since this socket's handshake: media flows only then. */
  acked: boolean;
}

/** A socket media or events are delivered on, with its keep-alive supervisor. */
export interface Channel {
  ws: WebSocket;
  supervisor?: KeepAlive;
}

/**
 * Keep-alive supervision of one socket, as Zoom documents it: KEEP_ALIVE_REQ about every
 * `intervalMs`, but only while no data flows on the socket; after `maxMissed` requests in a row go
 * unanswered (no KEEP_ALIVE_RESP), the server ends the connection (counted in `keepalive.missed`).
 * While the connection is stalled (fault `stall`) the server behaves as if hung: it sends nothing
 * and counts nothing.
 */
export class KeepAlive {
  /** Set by every data frame sent on the socket; cleared at each interval. */
  dataSent = false;
  #unanswered = 0;
  #interval: NodeJS.Timeout;
  #stopped = false;

  constructor(
    readonly ws: WebSocket,
    intervalMs: number,
    private readonly maxMissed: number,
    private readonly counters: Counters,
    private readonly isStalled: () => boolean,
    /** Called when the server ends the socket for missed keep-alives. */
    private readonly onTimeout: () => void,
  ) {
    this.#interval = setInterval(() => this.#tick(), intervalMs);
    this.#interval.unref();
  }

  /** The client answered a keep-alive request. */
  answered(): void {
    this.#unanswered = 0;
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#interval);
  }

  #tick(): void {
    if (this.#stopped) return;
    if (this.ws.readyState !== WebSocket.OPEN) return this.stop();
    if (this.isStalled()) return;
    if (this.dataSent) {
      this.dataSent = false;
      this.#unanswered = 0;
      return;
    }
    if (this.#unanswered >= this.maxMissed) {
      this.counters.keepalive.missed++;
      this.stop();
      this.onTimeout();
      this.ws.terminate();
      return;
    }
    this.#unanswered++;
    this.counters.keepalive.sent++;
    this.ws.send(JSON.stringify({ msg_type: MsgType.KEEP_ALIVE_REQ, timestamp: Date.now() }));
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
  /** The server ended this connection itself (restart, kick, stream end): no interruption follows. */
  endedByServer = false;
  /** The signaling socket as a delivery channel (events). */
  readonly signalingChannel: Channel;

  constructor(readonly signaling: WebSocket) {
    this.signalingChannel = { ws: signaling };
  }

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

  /** The handshaken, acknowledged media socket that carries a kind, if any. */
  socketFor(kind: MediaKind): MediaSocket | undefined {
    for (const m of this.media) if (m.acked && m.kinds.has(kind) && m.ws.readyState === WebSocket.OPEN) return m;
    return undefined;
  }

  /** Ends every socket: politely (close code) or abruptly (terminate). */
  close(code?: number, reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.signalingChannel.supervisor?.stop();
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
