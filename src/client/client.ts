/**
 * RtmsClient: joins one RTMS stream from a webhook payload and turns it into typed events.
 *
 * It owns the signaling socket and the media socket(s): both handshakes, CLIENT_READY_ACK,
 * keep-alive answers on every socket, a watchdog that treats a socket silent past Zoom's
 * tolerance as dead, and a graceful `leave()` through STREAM_CLOSE_REQ. Recovery follows Zoom's
 * "Failover and reconnection": a lost signaling connection re-opens both (exponential backoff with
 * jitter); a lost media connection, or MEDIA_CONNECTION_INTERRUPTED / STREAM_STATE INTERRUPTED
 * (reason 14) on signaling, re-opens only media; `reconnect()` re-opens both at once when Zoom
 * announces a server failure (a new `*.rtms_started` with new URLs) or sends `*.rtms_interrupted`.
 * Terminal conditions (stream ended, signature rejected, taken over by another connection) stop
 * retrying and are reported in `closed`.
 */
import { on } from 'node:events';
import { randomInt } from 'node:crypto';
import WebSocket from 'ws';
import { ConnectionError, InvalidStateError, OpenRtmsError, ProtocolError, type ErrorCode } from '../errors.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  DUPLICATE_SIGNAL_RETRY,
  HANDSHAKE_ID_FIELD,
  KEEPALIVE_TOLERANCE_MS,
  MEDIA_KINDS,
  MsgType,
  PROTOCOL_VERSION,
  SERVER_TO_CLIENT,
  SessionState,
  StopReason,
  StreamState,
  EventType,
  buildMediaParams,
  mediaTypeMask,
  parseMessage,
  payloadId,
  productOfPayload,
  rtmsSignature,
  type AnyMessage,
  type MediaKind,
  type MediaParams,
  type Message,
  type Product,
  type ParseOptions,
} from '../protocol/index.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { noteFrameRead } from '../util/wake-coalescing.js';
import { everyShared } from '../util/shared-interval.js';
import { DEFAULT_RECONNECT, backoffDelay, duplicateSignalDelay } from './backoff.js';
import { toChatMessage, toTranscriptFrame } from './content.js';
import { TAKEOVER_CLOSE_CODE, classifyHandshakeStatus, classifyStreamEnd, type EndVerdict } from './termination.js';
import type {
  ClientState,
  ClientStats,
  ClosedEvent,
  CloseReason,
  JoinInput,
  ReconnectOptions,
  ReconnectScope,
  RtmsClientEvents,
  RtmsClientOptions,
} from './types.js';

interface Target {
  product: Product;
  id: string;
  streamId: string;
  serverUrls: string;
}

interface Socket {
  ws: WebSocket;
  role: 'signaling' | 'media';
  /** `all` or the media kind this socket carries. */
  kind: 'all' | MediaKind;
  lastSeen: number;
  tolerance: number;
  handshaken: boolean;
  /** Torn down or replaced by a newer socket: its late events are ignored. */
  replaced?: boolean;
}

interface Pending {
  resolve: (m: AnyMessage) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const noopLogger = { debug() {}, info() {}, warn() {} };

/** Longest wait for the media socket(s) to close after Zoom ended the stream. */
const DRAIN_AFTER_END_MS = 1000;

/** Media-only reconnects that may fail in a row before both connections are re-opened. */
const MEDIA_ONLY_ATTEMPTS = 3;

/** Response msg_type awaited for each request msg_type. */
const RESPONSE_OF: Partial<Record<number, number>> = {
  [MsgType.STREAM_CLOSE_REQ]: MsgType.STREAM_CLOSE_RESP,
  [MsgType.VIDEO_SUBSCRIPTION_REQ]: MsgType.VIDEO_SUBSCRIPTION_RESP,
  [MsgType.SESSION_STATE_REQ]: MsgType.SESSION_STATE_RESP,
  [MsgType.STREAM_STATE_REQ]: MsgType.STREAM_STATE_RESP,
};

/** Normalises a webhook payload (any product) or a JoinPayload into what the client needs. */
export function toTarget(input: JoinInput): Target {
  if ('rtmsStreamId' in input) {
    const product = input.product ?? 'meeting';
    return { product, id: input.meetingUuid, streamId: input.rtmsStreamId, serverUrls: input.serverUrls };
  }
  const id = payloadId(input);
  if (!id) throw new OpenRtmsError('RTMS_INVALID_PAYLOAD', 'join payload has no meeting_uuid, webinar_uuid, session_id, engagement_id or call_id');
  if (!input.rtms_stream_id) throw new OpenRtmsError('RTMS_INVALID_PAYLOAD', 'join payload has no rtms_stream_id');
  if (!input.server_urls) throw new OpenRtmsError('RTMS_INVALID_PAYLOAD', 'join payload has no server_urls (the signaling URL)');
  return { product: productOfPayload(input), id, streamId: input.rtms_stream_id, serverUrls: input.server_urls };
}

export class RtmsClient extends TypedEmitter<RtmsClientEvents> {
  readonly #clientId: string;
  readonly #clientSecret: string;
  readonly #media: MediaKind[];
  readonly #mediaParams: MediaParams;
  readonly #opts: RtmsClientOptions;
  readonly #reconnect: Required<ReconnectOptions>;
  readonly #tolerance: { signaling: number; media: number };
  readonly #log: NonNullable<RtmsClientOptions['logger']>;

  #state: ClientState = 'idle';
  #target?: Target;
  #sockets: Socket[] = [];
  #generation = 0;
  #failures = 0;
  /** Status-8 refusals in a row (Zoom's library retries those 3 times on its own schedule). */
  #duplicateRefusals = 0;
  /** Failed media-only reconnects in a row; past MEDIA_ONLY_ATTEMPTS both sockets are re-opened. */
  #mediaFailures = 0;
  #mediaTimer?: NodeJS.Timeout;
  #everJoined = false;
  #granted: MediaParams = {};
  /** Media server URLs from the last signaling handshake (media-only reconnects reuse them). */
  #mediaUrls?: Record<string, string>;
  /** Stops this client's watchdog (one shared timer checks every client with the same period). */
  #stopWatchdog?: () => void;
  #attemptTimer?: NodeJS.Timeout;
  #reconnectTimer?: NodeJS.Timeout;
  #joinDeadline?: NodeJS.Timeout;
  #pending = new Map<number, Pending>();
  #join?: { resolve: () => void; reject: (e: Error) => void };
  #closed?: ClosedEvent;
  #closedWaiters: ((e: ClosedEvent) => void)[] = [];
  #leaving?: Promise<ClosedEvent>;
  #abort = new AbortController();
  /** Set when Zoom ended the stream; the client finishes once in-flight media is read. */
  #ending?: { reason: CloseReason; error?: OpenRtmsError; stopReason?: number };
  #drainTimer?: NodeJS.Timeout;
  /** The app is paused (STREAM/SESSION_STATE PAUSED until RESUMED). */
  #paused = false;
  /** What every received frame is parsed with (one object, not one per frame). */
  #parseOptions?: ParseOptions;

  /** Counters since construction. */
  readonly stats: ClientStats = {
    frames: { audio: 0, video: 0, deskshare: 0, transcript: 0, chat: 0 },
    bytes: 0,
    reconnects: 0,
    mediaReconnects: 0,
    keepAlivesAnswered: 0,
    protocolErrors: 0,
  };

  constructor(options: RtmsClientOptions = {}) {
    super();
    this.#opts = options;
    const env = process.env;
    const clientId = options.clientId ?? env.ZM_RTMS_CLIENT ?? env.ZOOM_CLIENT_ID;
    const clientSecret = options.clientSecret ?? env.ZM_RTMS_SECRET ?? env.ZOOM_CLIENT_SECRET;
    if (!clientId) throw new OpenRtmsError('CONFIG_MISSING', 'client id missing: pass clientId or set ZM_RTMS_CLIENT');
    if (!clientSecret) throw new OpenRtmsError('CONFIG_MISSING', 'client secret missing: pass clientSecret or set ZM_RTMS_SECRET');
    this.#clientId = clientId;
    this.#clientSecret = clientSecret;
    this.#media = options.media?.length ? [...new Set(options.media)] : [...MEDIA_KINDS];
    for (const k of this.#media) {
      if (!MEDIA_KINDS.includes(k)) throw new OpenRtmsError('CONFIG_INVALID', `unknown media kind "${k}"; expected ${MEDIA_KINDS.join(', ')}`);
    }
    this.#mediaParams = buildMediaParams(this.#media, options);
    this.#reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.#tolerance = {
      signaling: options.keepAliveToleranceMs?.signaling ?? KEEPALIVE_TOLERANCE_MS.signaling,
      media: options.keepAliveToleranceMs?.media ?? KEEPALIVE_TOLERANCE_MS.media,
    };
    this.#log = options.logger ?? noopLogger;
  }

  /** Current state: idle → connecting → ready ⇄ reconnecting → closing → closed. */
  get state(): ClientState {
    return this.#state;
  }

  /** The stream this client joined (undefined before `join()`). */
  get streamId(): string | undefined {
    return this.#target?.streamId;
  }

  /** True between `paused` and `resumed`: connected, but Zoom sends no media. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Media parameters the server granted at the last handshake. */
  get grantedMediaParams(): MediaParams {
    return this.#granted;
  }

  /**
   * Joins the stream described by a webhook payload (meeting, webinar, Video SDK session or
   * Contact Center engagement). Resolves when media is flowing; rejects with a typed error
   * (RTMS_SIGNATURE_REJECTED, RTMS_JOIN_TIMEOUT, ...) when it cannot join.
   */
  join(input: JoinInput): Promise<void> {
    if (this.#state !== 'idle') throw new InvalidStateError(`join() called in state "${this.#state}"; a client joins once`);
    this.#target = toTarget(input);
    return new Promise<void>((resolve, reject) => {
      this.#join = { resolve, reject };
      const timeout = this.#opts.joinTimeoutMs ?? 15_000;
      this.#joinDeadline = setTimeout(() => {
        this.#finish('join-timeout', new ConnectionError('RTMS_JOIN_TIMEOUT', `could not join stream ${this.#target?.streamId} within ${timeout} ms`));
      }, timeout);
      this.#startWatchdog();
      this.#connect();
    });
  }

  /**
   * Leaves gracefully: STREAM_CLOSE_REQ, then waits (closeTimeoutMs) for STREAM_CLOSE_RESP.
   * Calling it again returns the same result; calling it before `join()` is an InvalidStateError.
   */
  leave(): Promise<ClosedEvent> {
    if (this.#state === 'idle') throw new InvalidStateError('leave() called before join()');
    if (this.#closed) return Promise.resolve(this.#closed);
    if (this.#leaving) return this.#leaving;
    const signaling = this.#sockets.find((s) => s.role === 'signaling');
    if (this.#state !== 'ready' || !signaling || signaling.ws.readyState !== WebSocket.OPEN) {
      this.#finish('left');
      return Promise.resolve(this.#closed!);
    }
    this.#setState('closing');
    clearTimeout(this.#reconnectTimer);
    this.#leaving = this.#request({ msg_type: MsgType.STREAM_CLOSE_REQ, rtms_stream_id: this.#target!.streamId }, this.#opts.closeTimeoutMs ?? 5_000).then(
      () => this.#finish('left'),
      (err: Error) =>
        this.#finish(
          'left',
          err instanceof OpenRtmsError && err.code === 'RTMS_REQUEST_TIMEOUT'
            ? new ConnectionError('RTMS_CLOSE_TIMEOUT', `no STREAM_CLOSE_RESP within ${this.#opts.closeTimeoutMs ?? 5_000} ms; closed anyway`)
            : undefined,
        ),
    );
    return this.#leaving;
  }

  /** Closes both sockets at once, without telling Zoom (use when the stop webhook arrived). Idempotent. */
  close(): Promise<ClosedEvent> {
    if (!this.#closed) this.#finish('closed');
    return Promise.resolve(this.#closed!);
  }

  /**
   * Re-opens both connections now, to `serverUrls` when given. For what Zoom announces by webhook:
   * a new `*.rtms_started` with new `server_urls` for a stream already held (RTMS server failure)
   * or `*.rtms_interrupted` (the server ended both connections). Any pending backoff is cut short; for
   * an interruption, a connection attempt already under way (to the same URL) is left to finish.
   * Returns false when the client has not joined yet or is closing or closed.
   */
  reconnect(cause: 'server-failover' | 'interrupted', serverUrls?: string): boolean {
    if (this.#closed || !this.#target || this.#state === 'idle' || this.#state === 'closing') return false;
    // An interruption announced while a new connection is already being made (the client saw the
    // close first): tearing it down would only cost another interruption.
    if (cause === 'interrupted' && this.#sockets.length > 0 && (!serverUrls || serverUrls === this.#target.serverUrls)) return true;
    if (serverUrls) this.#target.serverUrls = serverUrls;
    const error =
      cause === 'server-failover'
        ? new ConnectionError('RTMS_SERVER_FAILOVER', 'Zoom moved the stream to a new RTMS server (a new rtms_started with new server_urls)')
        : new ConnectionError('RTMS_INTERRUPTED', 'Zoom ended the connection and sent rtms_interrupted');
    this.#teardown();
    this.#failures = 0;
    this.#duplicateRefusals = 0;
    this.#retry(error, 0);
    return true;
  }

  /** Resolves once the client has closed for good, with the reason. */
  whenClosed(): Promise<ClosedEvent> {
    if (this.#closed) return Promise.resolve(this.#closed);
    return new Promise((resolve) => this.#closedWaiters.push(resolve));
  }

  /** Asks for one participant's camera (VIDEO_SUBSCRIPTION_REQ); resolves with the response. */
  async subscribeVideo(userId: number | string, subscribe = true): Promise<Message<29>> {
    this.#requireReady('subscribeVideo');
    return (await this.#request({ msg_type: MsgType.VIDEO_SUBSCRIPTION_REQ, rtms_stream_id: this.#target!.streamId, user_id: userId, subscribe })) as Message<29>;
  }

  /** SESSION_STATE_REQ → SESSION_STATE_RESP. */
  async requestSessionState(): Promise<Message<11>> {
    this.#requireReady('requestSessionState');
    return (await this.#request({ msg_type: MsgType.SESSION_STATE_REQ, rtms_stream_id: this.#target!.streamId })) as Message<11>;
  }

  /** STREAM_STATE_REQ → STREAM_STATE_RESP. */
  async requestStreamState(): Promise<Message<20>> {
    this.#requireReady('requestStreamState');
    return (await this.#request({ msg_type: MsgType.STREAM_STATE_REQ, rtms_stream_id: this.#target!.streamId })) as Message<20>;
  }

  /** Async iteration over one kind of event until the client closes: `for await (const f of client.frames('audio'))`. */
  async *frames<K extends 'audio' | 'video' | 'deskshare' | 'transcript' | 'chat'>(kind: K): AsyncGenerator<RtmsClientEvents[K][0]> {
    if (this.#closed) return;
    try {
      for await (const [frame] of on(this, kind, { signal: this.#abort.signal })) yield frame as RtmsClientEvents[K][0];
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
  }

  // ---- connection ---------------------------------------------------------------------------

  #connect(): void {
    const gen = ++this.#generation;
    const target = this.#target!;
    this.#setState(this.#everJoined ? 'reconnecting' : 'connecting');
    const timeout = this.#opts.joinTimeoutMs ?? 15_000;
    clearTimeout(this.#attemptTimer);
    this.#attemptTimer = setTimeout(() => {
      if (gen === this.#generation) this.#lost(new ConnectionError('RTMS_JOIN_TIMEOUT', `handshake did not complete within ${timeout} ms`));
    }, timeout);
    const sock = this.#open(target.serverUrls, 'signaling', 'all', gen);
    if (!sock) return;
    sock.ws.once('open', () => {
      this.#send(sock, { msg_type: MsgType.SIGNALING_HAND_SHAKE_REQ, ...this.#signedHandshake() });
    });
  }

  #open(url: string, role: Socket['role'], kind: Socket['kind'], gen: number): Socket | undefined {
    let ws: WebSocket;
    try {
      // The socket accepts frames up to twice the parse limit, so an oversized frame is reported and
      // skipped by the parser instead of killing the connection. Likewise a malformed UTF-8 sequence
      // (a transcript cut mid-character) becomes U+FFFD in that frame: ws's default closes the
      // connection over it (1007), which would cost a reconnect and a gap.
      ws = new WebSocket(url, { skipUTF8Validation: true, ...this.#opts.wsOptions, maxPayload: 2 * (this.#opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES) });
    } catch (err) {
      this.#fatal('handshake-failed', new ConnectionError('RTMS_HANDSHAKE_FAILED', `invalid ${role} URL "${url}": ${(err as Error).message}`));
      return undefined;
    }
    const sock: Socket = { ws, role, kind, lastSeen: Date.now(), tolerance: this.#tolerance[role], handshaken: false };
    this.#sockets.push(sock);
    ws.on('message', (data) => {
      if (gen !== this.#generation || sock.replaced) return;
      sock.lastSeen = Date.now();
      noteFrameRead();
      this.#onMessage(sock, data as Buffer);
    });
    ws.on('error', (err) => {
      if (gen === this.#generation) this.#log.debug({ role, kind, err: err.message }, 'socket error');
    });
    ws.on('close', (code, reason) => {
      if (gen !== this.#generation || this.#closed || sock.replaced) return;
      if (this.#ending) {
        if (!this.#mediaOpen()) this.#finishEnding();
        return;
      }
      if (this.#state === 'closing') {
        this.#finish('left');
        return;
      }
      if (code === TAKEOVER_CLOSE_CODE) {
        this.#finish('kicked', new ConnectionError('RTMS_KICKED', 'another connection took over the stream (close code 4001)', { role, code }));
        return;
      }
      const error = new ConnectionError('RTMS_CONNECTION_LOST', `${role} socket closed (code ${code}${reason.length ? `, ${reason.toString()}` : ''})`, { role, kind, code });
      if (role === 'media' && this.#signalingUp()) this.#mediaLost(error);
      else this.#lost(error);
    });
    return sock;
  }

  /** The signaling socket is open and handshaken (so a media-only reconnect can work). */
  #signalingUp(): boolean {
    const s = this.#sockets.find((x) => x.role === 'signaling');
    return !!s && s.handshaken && s.ws.readyState === WebSocket.OPEN;
  }

  #openMedia(serverUrls: Record<string, string>, gen: number): void {
    this.#mediaUrls = serverUrls;
    const perKind = this.#opts.socketMode === 'per-kind';
    const groups: { kind: Socket['kind']; url: string; kinds: MediaKind[] }[] = [];
    if (perKind) {
      for (const k of this.#media) {
        const url = serverUrls[k] ?? serverUrls.all;
        if (!url) return this.#lost(new ConnectionError('RTMS_HANDSHAKE_FAILED', `signaling response names no media URL for ${k}`));
        groups.push({ kind: k, url, kinds: [k] });
      }
    } else {
      const url = serverUrls.all ?? Object.values(serverUrls)[0];
      if (!url) return this.#lost(new ConnectionError('RTMS_HANDSHAKE_FAILED', 'signaling response names no media server URL'));
      groups.push({ kind: 'all', url, kinds: this.#media });
    }
    for (const g of groups) {
      const sock = this.#open(g.url, 'media', g.kind, gen);
      if (!sock) return;
      const params: MediaParams = {};
      for (const k of g.kinds) (params as Record<string, unknown>)[k] = this.#mediaParams[k];
      sock.ws.once('open', () => {
        this.#send(sock, {
          msg_type: MsgType.DATA_HAND_SHAKE_REQ,
          ...this.#signedHandshake(),
          media_type: mediaTypeMask(g.kinds),
          payload_encryption: false,
          media_params: params,
        });
      });
    }
  }

  /**
   * Fields both handshakes carry: version, the id, stream id, sequence, signature. The id goes in
   * the product's own field as Zoom's library names it today (`webinar_uuid`, `call_id`, ...) and in
   * `meeting_uuid`, where earlier versions of that library put it for every product.
   */
  #signedHandshake(): Record<string, unknown> {
    const t = this.#target!;
    return {
      protocol_version: PROTOCOL_VERSION,
      meeting_uuid: t.id,
      [HANDSHAKE_ID_FIELD[t.product]]: t.id,
      rtms_stream_id: t.streamId,
      sequence: randomInt(1, 2 ** 31),
      signature: rtmsSignature(this.#clientId, this.#clientSecret, t.id, t.streamId),
    };
  }

  #onMessage(sock: Socket, raw: Buffer): void {
    const parsed = parseMessage(raw, (this.#parseOptions ??= { allowed: SERVER_TO_CLIENT, maxFrameBytes: this.#opts.maxFrameBytes }));
    if (!parsed.ok) return this.#protocolError(parsed.error);
    const m = parsed.message;
    // The arrival time, read once by the socket's handler.
    const now = sock.lastSeen;
    switch (m.msg_type) {
      case MsgType.MEDIA_DATA_AUDIO: {
        const c = m.content;
        const data = Buffer.from(c.data, 'base64');
        this.stats.frames.audio++;
        this.stats.bytes += data.length;
        this.emit('audio', { userId: c.user_id ?? 0, userName: c.user_name ?? '', data, timestamp: c.timestamp ?? now, receivedAt: now });
        return;
      }
      case MsgType.MEDIA_DATA_VIDEO:
      case MsgType.MEDIA_DATA_SHARE: {
        const c = m.content;
        const kind = m.msg_type === MsgType.MEDIA_DATA_VIDEO ? 'video' : 'deskshare';
        const data = Buffer.from(c.data, 'base64');
        this.stats.frames[kind]++;
        this.stats.bytes += data.length;
        this.emit(kind, { kind, userId: c.user_id ?? 0, userName: c.user_name ?? '', data, timestamp: c.timestamp ?? now, receivedAt: now });
        return;
      }
      case MsgType.MEDIA_DATA_TRANSCRIPT:
        this.stats.frames.transcript++;
        this.emit('transcript', toTranscriptFrame(m.content, now, this.#granted.transcript?.target_language));
        return;
      case MsgType.MEDIA_DATA_CHAT:
        this.stats.frames.chat++;
        this.emit('chat', toChatMessage(m.content, now));
        return;
      case MsgType.KEEP_ALIVE_REQ:
        this.stats.keepAlivesAnswered++;
        this.#send(sock, { msg_type: MsgType.KEEP_ALIVE_RESP, timestamp: m.timestamp ?? Date.now() });
        return;
      case MsgType.SIGNALING_HAND_SHAKE_RESP:
        return this.#onSignalingHandshake(sock, m);
      case MsgType.DATA_HAND_SHAKE_RESP:
        return this.#onDataHandshake(sock, m);
      case MsgType.EVENT_UPDATE:
        return this.#onEvent(m);
      case MsgType.STREAM_STATE_UPDATE: {
        const stopReason = m.reason ?? m.stop_reason;
        this.emit('streamState', { state: m.state, stopReason, timestamp: m.timestamp });
        // A pause is neither an end nor a reason to reconnect: the sockets stay, keep-alives go on.
        if (m.state === StreamState.PAUSED || m.state === StreamState.RESUMED) this.#pauseState(m.state === StreamState.PAUSED, 'stream', m.timestamp ?? now);
        if (m.state === StreamState.TERMINATED) this.#streamEnded(classifyStreamEnd(stopReason));
        else if (m.state === StreamState.INTERRUPTED && stopReason === StopReason.STOP_BC_DATA_CONNECTION_INTERRUPTED) this.#mediaInterrupted();
        return;
      }
      case MsgType.SESSION_STATE_UPDATE: {
        const stopReason = m.reason ?? m.stop_reason;
        this.emit('sessionState', { state: m.state, stopReason, timestamp: m.timestamp });
        if (m.state === SessionState.PAUSED || m.state === SessionState.RESUMED) this.#pauseState(m.state === SessionState.PAUSED, 'session', m.timestamp ?? now);
        if (m.state === SessionState.STOPPED) this.#streamEnded(classifyStreamEnd(stopReason));
        return;
      }
      default: {
        if (m.msg_type === MsgType.VIDEO_SUBSCRIPTION_RESP) {
          this.emit('videoSubscription', { userId: m.user_id, statusCode: m.status_code ?? 0, subscribed: m.subscribe ?? (m.status_code ?? 0) === 0, ...(m.reason ? { reason: m.reason } : {}) });
        }
        const pending = this.#pending.get(m.msg_type);
        if (pending) {
          this.#pending.delete(m.msg_type);
          clearTimeout(pending.timer);
          pending.resolve(m);
        }
      }
    }
  }

  #onSignalingHandshake(sock: Socket, m: Message<2>): void {
    if (sock.role !== 'signaling' || sock.handshaken) return;
    if (m.status_code !== 0) return this.#handshakeRejected('signaling', m.status_code, m.reason);
    sock.handshaken = true;
    this.#duplicateRefusals = 0;
    const urls = m.media_server?.server_urls ?? {};
    this.#openMedia(urls, this.#generation);
  }

  #onDataHandshake(sock: Socket, m: Message<4>): void {
    if (sock.role !== 'media' || sock.handshaken) return;
    if (m.status_code !== 0) return this.#handshakeRejected('media', m.status_code, m.reason);
    sock.handshaken = true;
    if (m.media_params) this.#granted = { ...this.#granted, ...m.media_params };
    if (!this.#sockets.every((s) => s.handshaken)) return;
    const signaling = this.#sockets.find((s) => s.role === 'signaling')!;
    if (this.#state === 'ready') {
      // A media-only reconnect completed: CLIENT_READY_ACK again, as Zoom's sample and library do.
      this.#send(signaling, { msg_type: MsgType.CLIENT_READY_ACK, rtms_stream_id: this.#target!.streamId });
      clearTimeout(this.#mediaTimer);
      this.#mediaTimer = undefined;
      const attempt = this.#mediaFailures;
      this.#mediaFailures = 0;
      this.emit('joined', { mediaParams: this.#granted, reconnected: true, attempt, scope: 'media' });
      return;
    }
    const events = [
      ...(this.#opts.subscribeEvents ?? []).map((event_type) => ({ event_type, subscribe: true })),
      ...(this.#opts.unsubscribeEvents ?? []).map((event_type) => ({ event_type, subscribe: false })),
    ];
    if (events.length) this.#send(signaling, { msg_type: MsgType.EVENT_SUBSCRIPTION, events });
    this.#send(signaling, { msg_type: MsgType.CLIENT_READY_ACK, rtms_stream_id: this.#target!.streamId });
    clearTimeout(this.#attemptTimer);
    const reconnected = this.#everJoined;
    const attempt = this.#failures;
    this.#failures = 0;
    this.#everJoined = true;
    this.#setState('ready');
    if (this.#join) {
      clearTimeout(this.#joinDeadline);
      this.#join.resolve();
      this.#join = undefined;
    }
    this.emit('joined', { mediaParams: this.#granted, reconnected, attempt, scope: 'all' });
  }

  #handshakeRejected(role: string, status: number, reason?: string): void {
    const verdict = classifyHandshakeStatus(status);
    const message = `${role} handshake rejected with status ${status}${verdict.name ? ` (${verdict.name})` : ''}${reason ? `: ${reason}` : ''}`;
    if (verdict.terminal) return this.#fatal(verdict.closeReason, new ConnectionError(verdict.code, message, { role, status, reason }));
    if (verdict.duplicateSignal && this.#duplicateRefusals < DUPLICATE_SIGNAL_RETRY.attempts) {
      // The server still holds our previous signaling connection: Zoom's schedule, 1.5 s doubling.
      this.#teardown();
      const delayMs = duplicateSignalDelay(++this.#duplicateRefusals);
      return this.#retry(new ConnectionError('RTMS_DUPLICATE_SIGNAL', message, { role, status, reason }), delayMs);
    }
    const error = new ConnectionError(verdict.code, message, { role, status, reason });
    if (role === 'media' && this.#signalingUp()) this.#mediaLost(error);
    else this.#lost(error);
  }

  #onEvent(m: Message<6>): void {
    const e = m.event;
    this.emit('event', e);
    if (e.event_type === EventType.MEDIA_CONNECTION_INTERRUPTED) this.#mediaInterrupted();
    const timestamp = e.timestamp ?? Date.now();
    if (e.event_type === EventType.FIRST_PACKET_TIMESTAMP) this.emit('firstPacket', { timestamp });
    else if (e.event_type === EventType.MEDIA_CONNECTION_INTERRUPTED) this.emit('mediaInterrupted', { timestamp });
    const participants = (e.participants ?? (e.user_id !== undefined ? [{ user_id: e.user_id, user_name: e.user_name }] : [])).map((p) => ({
      userId: p.user_id,
      userName: p.user_name ?? '',
    }));
    if (this.#target?.product === 'contact_center') return; // its event numbers above 7 mean other things
    if (e.event_type === EventType.PARTICIPANT_JOIN || e.event_type === EventType.PARTICIPANT_LEAVE) {
      this.emit('participant', { action: e.event_type === EventType.PARTICIPANT_JOIN ? 'join' : 'leave', participants, timestamp });
    } else if (e.event_type === EventType.ACTIVE_SPEAKER_CHANGE && participants[0]) {
      this.emit('activeSpeaker', { ...participants[0], timestamp });
    }
  }

  /** Emits `paused`/`resumed` once per transition (Zoom sends both a stream and a session state). */
  #pauseState(paused: boolean, source: 'stream' | 'session', timestamp: number): void {
    if (paused === this.#paused) return;
    this.#paused = paused;
    this.emit(paused ? 'paused' : 'resumed', { source, timestamp });
  }

  #streamEnded(verdict: EndVerdict): void {
    if (this.#closed || this.#ending) return;
    if (this.#state === 'closing') {
      this.#finish('left');
      return;
    }
    this.#ending = { reason: verdict.closeReason, error: new ConnectionError(verdict.code, verdict.message, { stopReason: verdict.stopReason }), stopReason: verdict.stopReason };
    this.#setState('closing');
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#attemptTimer);
    // The end arrives on the signaling socket while media sent before it may still be in flight on the
    // media socket(s): keep reading until the server closes them (bounded), so nothing sent is lost.
    if (!this.#mediaOpen()) return this.#finishEnding();
    this.#drainTimer = setTimeout(() => this.#finishEnding(), DRAIN_AFTER_END_MS);
  }

  #mediaOpen(): boolean {
    return this.#sockets.some((s) => s.role === 'media' && s.ws.readyState === WebSocket.OPEN);
  }

  #finishEnding(): void {
    clearTimeout(this.#drainTimer);
    const e = this.#ending!;
    this.#finish(e.reason, e.error, e.stopReason);
  }

  /** A connection-level failure: tear down both connections and retry, unless retries are off or exhausted. */
  #lost(error: OpenRtmsError): void {
    if (this.#closed || this.#state === 'closing') return;
    this.#teardown();
    this.#failures++;
    if (!this.#reconnect.enabled || this.#failures > this.#reconnect.maxAttempts) {
      const exhausted = new ConnectionError('RTMS_RECONNECT_EXHAUSTED', `gave up after ${this.#failures} failed attempt(s); last error: ${error.message}`, { last: error.code });
      this.#finish('reconnect-exhausted', exhausted);
      return;
    }
    this.#retry(error, backoffDelay(this.#failures, this.#reconnect));
  }

  /** Schedules a new connection of both sockets (they are already torn down). */
  #retry(error: OpenRtmsError, delayMs: number): void {
    this.#log.info({ streamId: this.#target?.streamId, attempt: this.#failures, delayMs, code: error.code }, 'reconnecting');
    this.#setState(this.#everJoined ? 'reconnecting' : 'connecting');
    this.stats.reconnects += this.#everJoined ? 1 : 0;
    this.emit('reconnecting', { attempt: this.#failures, delayMs, error, scope: 'all' });
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#mediaTimer);
    this.#mediaTimer = undefined;
    this.#reconnectTimer = setTimeout(() => this.#connect(), delayMs);
  }

  /**
   * A media connection failed while signaling is up (the socket closed, went silent, or its
   * handshake failed): re-open media only, after a backoff; past a few failures, both connections.
   */
  #mediaLost(error: OpenRtmsError): void {
    if (this.#state !== 'ready') return this.#lost(error);
    if (this.#mediaTimer) return; // already scheduled
    this.#mediaFailures++;
    if (this.#mediaFailures > MEDIA_ONLY_ATTEMPTS) {
      this.#mediaFailures = 0;
      return this.#lost(error);
    }
    const delayMs = backoffDelay(this.#mediaFailures, this.#reconnect);
    this.#scheduleMediaReopen(error, delayMs);
  }

  /**
   * Zoom says on signaling that our media connection was interrupted (event 7, or STREAM_STATE
   * INTERRUPTED with reason 14): re-open media now. A reconnect already under way is hurried, and
   * one whose new sockets are handshaking is left alone.
   */
  #mediaInterrupted(): void {
    if (this.#closed || this.#state !== 'ready') return;
    const media = this.#sockets.filter((s) => s.role === 'media');
    const fresh = media.some((s) => !s.handshaken && s.ws.readyState !== WebSocket.CLOSED && s.ws.readyState !== WebSocket.CLOSING);
    if (fresh && !this.#mediaTimer) return;
    this.#mediaFailures = Math.max(this.#mediaFailures, 1);
    this.#scheduleMediaReopen(new ConnectionError('RTMS_MEDIA_INTERRUPTED', 'Zoom reported the media connection interrupted (MEDIA_CONNECTION_INTERRUPTED)'), 0);
  }

  #scheduleMediaReopen(error: OpenRtmsError, delayMs: number): void {
    clearTimeout(this.#mediaTimer);
    this.#log.info({ streamId: this.#target?.streamId, attempt: this.#mediaFailures, delayMs, code: error.code }, 'reconnecting media');
    this.stats.mediaReconnects++;
    this.emit('reconnecting', { attempt: this.#mediaFailures, delayMs, error, scope: 'media' });
    this.#mediaTimer = setTimeout(() => this.#reopenMedia(), delayMs);
  }

  /** Replaces every media socket with a new one (signaling stays); media flows after CLIENT_READY_ACK. */
  #reopenMedia(): void {
    this.#mediaTimer = undefined;
    if (this.#closed || this.#state !== 'ready' || !this.#signalingUp() || !this.#mediaUrls) return;
    for (const s of this.#sockets) if (s.role === 'media') this.#drop(s);
    this.#sockets = this.#sockets.filter((s) => s.role !== 'media');
    this.#openMedia(this.#mediaUrls, this.#generation);
  }

  #fatal(reason: CloseReason, error: OpenRtmsError): void {
    this.#finish(reason, error);
  }

  #finish(reason: CloseReason, error?: OpenRtmsError, stopReason?: number): ClosedEvent {
    if (this.#closed) return this.#closed;
    this.#setState('closing');
    this.#teardown();
    this.#stopWatchdog?.();
    clearTimeout(this.#drainTimer);
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#joinDeadline);
    clearTimeout(this.#attemptTimer);
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new InvalidStateError('client closed before the response arrived'));
    }
    this.#pending.clear();
    const event: ClosedEvent = { reason, ...(stopReason !== undefined ? { stopReason } : {}), ...(error ? { error } : {}) };
    this.#closed = event;
    this.#setState('closed');
    if (this.#join) {
      clearTimeout(this.#joinDeadline);
      this.#join.reject(error ?? new ConnectionError('RTMS_CONNECTION_LOST', `client closed (${reason}) before joining`));
      this.#join = undefined;
    }
    this.#abort.abort();
    this.emit('closed', event);
    for (const w of this.#closedWaiters.splice(0)) w(event);
    return event;
  }

  #teardown(): void {
    this.#generation++;
    clearTimeout(this.#mediaTimer);
    this.#mediaTimer = undefined;
    for (const s of this.#sockets) this.#drop(s);
    this.#sockets = [];
  }

  /** Ends one socket for good; its late events are ignored. */
  #drop(s: Socket): void {
    s.replaced = true;
    s.ws.removeAllListeners('open');
    s.ws.on('error', () => {}); // a late error after terminate must not become an uncaught exception
    if (s.ws.readyState === WebSocket.OPEN || s.ws.readyState === WebSocket.CONNECTING) s.ws.terminate();
  }

  #startWatchdog(): void {
    const period = Math.max(50, Math.min(1000, Math.floor(Math.min(this.#tolerance.signaling, this.#tolerance.media) / 4)));
    this.#stopWatchdog = everyShared(period, () => {
      const now = Date.now();
      for (const s of this.#sockets) {
        if (s.handshaken && now - s.lastSeen > s.tolerance) {
          const error = new ConnectionError('RTMS_KEEPALIVE_TIMEOUT', `${s.role} socket silent for ${now - s.lastSeen} ms (tolerance ${s.tolerance} ms)`, { role: s.role });
          if (s.role === 'media' && this.#signalingUp()) {
            s.lastSeen = now; // one media-only reconnect per silence
            return this.#mediaLost(error);
          }
          return this.#lost(error);
        }
      }
    });
  }

  #request(message: Record<string, unknown> & { msg_type: number }, timeoutMs = this.#opts.requestTimeoutMs ?? 5_000): Promise<AnyMessage> {
    const responseType = RESPONSE_OF[message.msg_type]!;
    const signaling = this.#sockets.find((s) => s.role === 'signaling');
    if (!signaling) return Promise.reject(new InvalidStateError('not connected'));
    return new Promise<AnyMessage>((resolve, reject) => {
      const previous = this.#pending.get(responseType);
      if (previous) {
        clearTimeout(previous.timer);
        previous.reject(new InvalidStateError('superseded by a newer request of the same type'));
      }
      const timer = setTimeout(() => {
        this.#pending.delete(responseType);
        reject(new OpenRtmsError('RTMS_REQUEST_TIMEOUT', `no response (msg_type ${responseType}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(responseType, { resolve, reject, timer });
      this.#send(signaling, message);
    });
  }

  #send(sock: Socket, message: Record<string, unknown>): void {
    if (sock.ws.readyState === WebSocket.OPEN) sock.ws.send(JSON.stringify(message));
  }

  #requireReady(method: string): void {
    if (this.#state !== 'ready') throw new InvalidStateError(`${method}() needs a joined client; state is "${this.#state}"`);
  }

  #protocolError(error: ProtocolError): void {
    this.stats.protocolErrors++;
    this.#log.warn({ code: error.code, details: error.details }, error.message);
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #setState(to: ClientState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.emit('stateChange', { from, to });
  }
}

export type { ErrorCode };
