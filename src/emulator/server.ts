/**
 * The emulator's signaling and media WebSocket servers (one HTTP server, routed by path):
 *   ws://host:port/signaling/<stream id>     ws://host:port/media/<stream id>/<all|audio|video|deskshare|transcript|chat>
 * Verifies handshake signatures, applies documented defaults, answers with RTMS status codes,
 * and never lets bad client input crash it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import {
  CLIENT_TO_SERVER,
  MsgType,
  SAMPLE_RATE_HZ,
  StatusCode,
  audioParams,
  checkAudioParams,
  checkTranscriptParams,
  checkVideoParams,
  deskshareParams,
  kindsOfMask,
  parseMessage,
  DUPLICATE_SIGNAL_REASON,
  rtmsSignature,
  safeEqual,
  transcriptParams,
  videoParams,
  type AnyMessage,
  type MediaKind,
  type MediaParams,
  type Message,
  type Product,
  type SampleRate,
} from '../protocol/index.js';
import type { ProtocolError } from '../errors.js';
import { createAudioEncoder } from '../media/codec.js';
import { Connection, KeepAlive, type MediaSocket } from './connection.js';
import { EmulatedStream } from './stream.js';
import type { Counters } from './summary.js';

export interface ServerOptions {
  host: string;
  port: number;
  clientId: string;
  clientSecret: string;
  keepAliveIntervalMs: number;
  /** Unanswered keep-alive requests in a row that end a connection. */
  keepAliveMaxMissed: number;
  counters: Counters;
  lookup(streamId: string): EmulatedStream | undefined;
  /** Observers (the Emulator re-emits them as typed events). */
  hooks?: ServerHooks;
  /** Zoom's REST endpoints for stream control (src/emulator/rest.ts), on the same port. */
  rest?: { handle(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): boolean };
}

/** What the server reports as it happens. */
export interface ServerHooks {
  /** A WebSocket was accepted (before any handshake). */
  connection?(info: { role: 'signaling' | 'media'; path: string }): void;
  /** A handshake was answered, accepted (status 0) or not. */
  handshake?(info: HandshakeInfo): void;
}

/** One answered handshake. */
export interface HandshakeInfo {
  role: 'signaling' | 'media';
  /** The stream named in the request ('' when it could not be read). */
  rtmsStreamId: string;
  statusCode: number;
  reason: string;
  /** Media socket route (`all` or one kind); media handshakes only. */
  route?: string;
  /** Granted media parameters (accepted media handshakes only). */
  mediaParams?: MediaParams;
}

/** Largest frame accepted from a client; handshakes are small. */
const MAX_CLIENT_FRAME = 1 << 20;

/** Maps a parse failure to the RTMS status a handshake response carries (Zoom's library table). */
function statusForParseError(error: ProtocolError): number {
  const field = String(error.details.field ?? '');
  switch (error.code) {
    case 'RTMS_BAD_JSON':
    case 'RTMS_FRAME_TOO_LARGE':
      return StatusCode.INVALID_PAYLOAD;
    case 'RTMS_UNKNOWN_MSG_TYPE':
      return StatusCode.INVALID_MESSAGE_TYPE;
    default:
      if (field === 'msg_type') return StatusCode.INVALID_MESSAGE_TYPE;
      if (field === 'signature') return StatusCode.INVALID_SIGNATURE;
      if (field === 'rtms_stream_id') return StatusCode.INVALID_RTMS_STREAM_ID;
      if (ID_FIELD_NAMES.has(field)) return StatusCode.INVALID_RTMS_SESSION_ID;
      if (field === 'media_type') return StatusCode.MEDIA_TYPE_INVALID_VALUE;
      if (field.startsWith('media_params')) return StatusCode.INVALID_MEDIA_PARAMS;
      return StatusCode.INVALID_PAYLOAD;
  }
}

const ID_FIELD_NAMES = new Set(['meeting_uuid', 'webinar_uuid', 'session_id', 'engagement_id', 'call_id']);

/** The specific status for the first problem found in a kind's media parameters. */
function statusForParams(kind: MediaKind, field: string): number {
  const key = `${kind === 'deskshare' ? 'DESKSHARE' : kind.toUpperCase()}_${field.split('.').pop()!.toUpperCase()}`;
  const specific = (StatusCode as Record<string, number>)[`INVALID_MEDIA_${key}`];
  if (specific !== undefined) return specific;
  if (kind === 'transcript' && field.endsWith('src_language')) return StatusCode.INVALID_MEDIA_TRANSCRIPT_SOURCE_LANGUAGE;
  return (StatusCode as Record<string, number>)[`INVALID_MEDIA_${kind === 'deskshare' ? 'DESKSHARE' : kind.toUpperCase()}_PARAMS`] ?? StatusCode.INVALID_MEDIA_PARAMS;
}

/** The answer to media parameters that break a rule: the status of the first problem, all problems in the reason. */
function paramsRejected(kind: MediaKind, problems: { field: string; message: string }[]): { status: number; reason: string } {
  return { status: statusForParams(kind, problems[0].field), reason: problems.map((p) => `${p.field}: ${p.message}`).join('; ') };
}

/** Contact Center and Phone streams are voice: audio and transcript only. */
const VOICE_ONLY: ReadonlySet<string> = new Set<Product>(['contact_center', 'phone']);

/** Status of a media kind this product does not carry. */
const NOT_SUPPORTED: Record<MediaKind, number> = {
  audio: StatusCode.MEDIA_TYPE_AUDIO_NOT_SUPPORT,
  video: StatusCode.MEDIA_TYPE_VIDEO_NOT_SUPPORT,
  deskshare: StatusCode.MEDIA_TYPE_DESKSHARE_NOT_SUPPORT,
  transcript: StatusCode.MEDIA_TYPE_TRANSCRIPT_NOT_SUPPORT,
  chat: StatusCode.MEDIA_TYPE_CHAT_NOT_SUPPORT,
};

/** The rtms_stream_id of a frame that failed validation, when it can still be read (for reports only). */
function streamIdOf(raw: unknown): string {
  try {
    const v = JSON.parse(String(raw)) as { rtms_stream_id?: unknown };
    return typeof v?.rtms_stream_id === 'string' ? v.rtms_stream_id : '';
  } catch {
    return '';
  }
}

/** HTTP server with the signaling and media WebSocket endpoints of every emulated stream. */
export class EmulatorServer {
  #http: Server;
  #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME });
  #sockets = new Set<WebSocket>();
  #down = false;
  /** Server instance number: bumped by every restart, so the URLs handed out afterwards are new. */
  #generation = 1;
  port = 0;

  constructor(private readonly opts: ServerOptions) {
    this.#http = this.#createHttp();
  }

  #createHttp(): Server {
    const http = createServer((req, res) => {
      if (this.opts.rest?.handle(req, res)) return;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"this is the RTMS emulator: connect with a WebSocket"}');
    });
    http.on('upgrade', (req, socket: Duplex, head) => this.#upgrade(req.url ?? '/', req, socket, head));
    http.on('clientError', (_err, socket) => socket.destroy());
    return http;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(this.port || this.opts.port, this.opts.host, () => {
        this.#http.off('error', reject);
        resolve();
      });
    });
    this.port = (this.#http.address() as AddressInfo).port;
  }

  get baseUrl(): string {
    const host = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
    return `ws://${host}:${this.port}`;
  }

  /**
   * URL prefix of the current server instance. After a restart the URLs differ (`/s2/…`), as Zoom's
   * do after an RTMS server failure; URLs of earlier instances still route here, so a client that
   * keeps retrying the old URL (Zoom's library does) also gets back in.
   */
  get #prefix(): string {
    return this.#generation === 1 ? this.baseUrl : `${this.baseUrl}/s${this.#generation}`;
  }

  signalingUrl(streamId: string): string {
    return `${this.#prefix}/signaling/${encodeURIComponent(streamId)}`;
  }

  /** Media server URLs of a stream: `all` and one per kind the product carries (voice products: audio, transcript). */
  mediaUrls(streamId: string, product: Product = 'meeting'): Record<string, string> {
    const base = `${this.#prefix}/media/${encodeURIComponent(streamId)}`;
    const kinds: MediaKind[] = VOICE_ONLY.has(product) ? ['audio', 'transcript'] : ['audio', 'video', 'deskshare', 'transcript', 'chat'];
    return Object.fromEntries([['all', `${base}/all`], ...kinds.map((k) => [k, `${base}/${k}`])]);
  }

  /**
   * Fault `restart` (an RTMS server failure): drop every socket, stop listening for `ms`, then come
   * back on the same port as a new server instance with new URLs. Resolves when it is back.
   */
  async restart(ms: number, beforeDrop: () => void): Promise<void> {
    if (this.#down) return;
    this.#down = true;
    beforeDrop();
    for (const ws of this.#sockets) ws.terminate();
    await new Promise<void>((r) => this.#http.close(() => r()));
    this.#http.closeAllConnections?.();
    await new Promise((r) => setTimeout(r, ms));
    this.#http = this.#createHttp();
    await this.listen();
    this.#generation++;
    this.#down = false;
  }

  async close(): Promise<void> {
    for (const ws of this.#sockets) ws.terminate();
    this.#wss.close();
    await new Promise<void>((r) => this.#http.close(() => r()));
    this.#http.closeAllConnections?.();
  }

  #upgrade(url: string, req: import('node:http').IncomingMessage, socket: Duplex, head: Buffer): void {
    const parts = url.split('?')[0].split('/').filter(Boolean);
    if (/^s\d+$/.test(parts[0] ?? '')) parts.shift(); // a server instance prefix (see #prefix)
    const role = parts[0];
    let streamId: string;
    try {
      streamId = decodeURIComponent(parts[1] ?? '');
    } catch {
      streamId = '';
    }
    const route = parts[2] ?? 'all';
    if ((role !== 'signaling' && role !== 'media') || (role === 'media' && !EmulatedStream.routeKinds(route))) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#sockets.add(ws);
      ws.on('close', () => this.#sockets.delete(ws));
      ws.on('error', () => {}); // protocol errors from clients (bad frames, oversize) end that socket only
      this.opts.hooks?.connection?.({ role, path: url });
      if (role === 'signaling') this.#signaling(ws, streamId);
      else this.#media(ws, streamId, route);
    });
  }

  // ---- signaling ----------------------------------------------------------------------------

  #signaling(ws: WebSocket, pathStreamId: string): void {
    let conn: Connection | undefined;
    let stream: EmulatedStream | undefined;
    const { counters } = this.opts;
    ws.on('message', (raw) => {
      if (conn && stream && conn.isStalled(stream.t)) return;
      const parsed = parseMessage(raw as Buffer, { allowed: CLIENT_TO_SERVER, maxFrameBytes: MAX_CLIENT_FRAME });
      if (!parsed.ok) {
        counters.badClientFrames++;
        if (!conn) this.#reject(ws, MsgType.SIGNALING_HAND_SHAKE_RESP, statusForParseError(parsed.error), parsed.error.message, streamIdOf(raw));
        return;
      }
      const m = parsed.message;
      if (!conn) {
        if (m.msg_type !== MsgType.SIGNALING_HAND_SHAKE_REQ) {
          counters.badClientFrames++;
          this.#reject(ws, MsgType.SIGNALING_HAND_SHAKE_RESP, StatusCode.INVALID_MESSAGE_TYPE, `expected SIGNALING_HAND_SHAKE_REQ (1), got msg_type ${m.msg_type}`, pathStreamId);
          return;
        }
        const verdict = this.#authenticate(m, pathStreamId);
        if ('status' in verdict) {
          this.#reject(ws, MsgType.SIGNALING_HAND_SHAKE_RESP, verdict.status, verdict.reason, m.rtms_stream_id);
          return;
        }
        if (verdict.stream.holder) {
          // One signaling connection per stream and app: while one is open, another is refused with
          // status 8 and Zoom's reason text (its library retries on that text); the holder stays.
          counters.connections.rejected_duplicate++;
          this.#reject(ws, MsgType.SIGNALING_HAND_SHAKE_RESP, StatusCode.DUPLICATE_SIGNAL_REQUEST, DUPLICATE_SIGNAL_REASON, m.rtms_stream_id);
          return;
        }
        stream = verdict.stream;
        conn = new Connection(ws);
        const c = conn;
        const s = stream;
        stream.attach(conn);
        counters.connections.signaling++;
        conn.signalingChannel.supervisor = new KeepAlive(ws, this.opts.keepAliveIntervalMs, this.opts.keepAliveMaxMissed, counters, () => c.isStalled(s.t), () => {});
        ws.on('close', () => s.detach(c));
        ws.send(
          JSON.stringify({
            msg_type: MsgType.SIGNALING_HAND_SHAKE_RESP,
            protocol_version: 1,
            status_code: StatusCode.SUCCESS,
            reason: '',
            media_server: { server_urls: this.mediaUrls(stream.id.rtmsStreamId, stream.id.product), srtp_keys: {} },
          }),
        );
        this.opts.hooks?.handshake?.({ role: 'signaling', rtmsStreamId: stream.id.rtmsStreamId, statusCode: StatusCode.SUCCESS, reason: '' });
        return;
      }
      if (m.msg_type === MsgType.SIGNALING_HAND_SHAKE_REQ) {
        // A second handshake on a socket that already holds the stream: answered, the socket stays.
        counters.badClientFrames++;
        this.#answer(ws, MsgType.SIGNALING_HAND_SHAKE_RESP, StatusCode.DUPLICATE_SIGNAL_REQUEST, DUPLICATE_SIGNAL_REASON, stream!.id.rtmsStreamId);
        return;
      }
      this.#signalingMessage(conn, stream!, m);
    });
  }

  #signalingMessage(conn: Connection, stream: EmulatedStream, m: AnyMessage): void {
    const send = (msg: object) => conn.signaling.readyState === WebSocket.OPEN && conn.signaling.send(JSON.stringify(msg));
    const sid = stream.id.rtmsStreamId;
    switch (m.msg_type) {
      case MsgType.CLIENT_READY_ACK:
        // Sent after every successful data handshake (Zoom's library and sample do so after each
        // re-opened media socket too): media flows to the sockets handshaken so far.
        stream.clientReady(conn);
        return;
      case MsgType.KEEP_ALIVE_RESP:
        this.opts.counters.keepalive.answered++;
        conn.signalingChannel.supervisor?.answered();
        return;
      case MsgType.EVENT_SUBSCRIPTION: {
        const set = conn.events ?? new Set<number>(Array.from({ length: 29 }, (_, i) => i));
        for (const e of m.events) (e.subscribe ? set.add(e.event_type) : set.delete(e.event_type));
        conn.events = set;
        return;
      }
      case MsgType.SESSION_STATE_REQ:
        send({ msg_type: MsgType.SESSION_STATE_RESP, session_id: stream.id.meetingUuid, session_state: stream.ended ? 5 : 2, status_code: 0 });
        return;
      case MsgType.STREAM_STATE_REQ:
        send({ msg_type: MsgType.STREAM_STATE_RESP, rtms_stream_id: sid, state: stream.ended ? 4 : 1, status_code: 0 });
        return;
      case MsgType.STREAM_CLOSE_REQ:
        send({ msg_type: MsgType.STREAM_CLOSE_RESP, rtms_stream_id: sid, status_code: 0, reason: '' });
        stream.closeRequested();
        return;
      case MsgType.VIDEO_SUBSCRIPTION_REQ: {
        const userId = Number(m.user_id);
        const known = stream.plan.names.has(userId);
        if (known && m.subscribe !== false) conn.videoUser = userId;
        if (m.subscribe === false && conn.videoUser === userId) conn.videoUser = undefined;
        // subscribe: whether the participant's video is subscribed now (false after an unsubscribe or a refusal).
        send({ msg_type: MsgType.VIDEO_SUBSCRIPTION_RESP, rtms_stream_id: sid, user_id: m.user_id, status_code: known ? 0 : StatusCode.INVALID_MEDIA_VIDEO_PARAMS, subscribe: known && m.subscribe !== false, reason: known ? '' : 'unknown user_id' });
        return;
      }
      default:
        // A valid client message on the wrong socket (e.g. DATA_HAND_SHAKE_REQ on signaling).
        this.opts.counters.badClientFrames++;
    }
  }

  #authenticate(m: Message<1> | Message<3>, pathStreamId: string): { stream: EmulatedStream } | { status: number; reason: string } {
    const { counters } = this.opts;
    const stream = this.opts.lookup(m.rtms_stream_id);
    if (!stream || (pathStreamId && pathStreamId !== m.rtms_stream_id)) {
      counters.connections.rejected_other++;
      return { status: StatusCode.INVALID_RTMS_STREAM_ID, reason: `unknown rtms_stream_id "${m.rtms_stream_id}"` };
    }
    // Zoom's library sends the product's id as `meeting_uuid` whatever the product; others name it.
    const ids = [m.meeting_uuid, m.webinar_uuid, m.session_id, m.engagement_id, m.call_id].filter((v): v is string => !!v);
    const id = ids.find((v) => v === stream.id.meetingUuid);
    if (!id) {
      counters.connections.rejected_other++;
      return { status: StatusCode.INVALID_RTMS_SESSION_ID, reason: `${stream.id.idField} does not match the stream` };
    }
    if (!safeEqual(rtmsSignature(this.opts.clientId, this.opts.clientSecret, id, m.rtms_stream_id), m.signature)) {
      counters.connections.rejected_signature++;
      return { status: StatusCode.INVALID_SIGNATURE, reason: 'signature does not match HMAC-SHA256(client secret, "client_id,id,rtms_stream_id")' };
    }
    if (stream.ended) {
      counters.connections.rejected_finished++;
      return { status: StatusCode.INVALID_RTMS_STREAM_ID, reason: 'the stream has ended' };
    }
    return { stream };
  }

  /** Answers a failed handshake with its status, then closes the socket (1008). */
  #reject(ws: WebSocket, respType: number, status: number, reason: string, rtmsStreamId = ''): void {
    if (!this.#answer(ws, respType, status, reason, rtmsStreamId)) return;
    ws.close(1008, 'handshake rejected');
  }

  /** Sends a handshake response carrying a status and reports it; false when the socket is gone. */
  #answer(ws: WebSocket, respType: number, status: number, reason: string, rtmsStreamId: string): boolean {
    if (ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify({ msg_type: respType, protocol_version: 1, status_code: status, reason }));
    this.opts.hooks?.handshake?.({ role: respType === MsgType.SIGNALING_HAND_SHAKE_RESP ? 'signaling' : 'media', rtmsStreamId, statusCode: status, reason });
    return true;
  }

  // ---- media --------------------------------------------------------------------------------

  #media(ws: WebSocket, pathStreamId: string, route: string): void {
    let sock: MediaSocket | undefined;
    let stream: EmulatedStream | undefined;
    const { counters } = this.opts;
    ws.on('message', (raw) => {
      const conn = stream?.conn;
      if (sock && stream && conn && conn.isStalled(stream.t)) return;
      const parsed = parseMessage(raw as Buffer, { allowed: CLIENT_TO_SERVER, maxFrameBytes: MAX_CLIENT_FRAME });
      if (!parsed.ok) {
        counters.badClientFrames++;
        if (!sock) this.#reject(ws, MsgType.DATA_HAND_SHAKE_RESP, statusForParseError(parsed.error), parsed.error.message, streamIdOf(raw));
        return;
      }
      const m = parsed.message;
      if (sock) {
        if (m.msg_type === MsgType.KEEP_ALIVE_RESP) {
          counters.keepalive.answered++;
          sock.supervisor?.answered();
        } else {
          counters.badClientFrames++;
          if (m.msg_type === MsgType.DATA_HAND_SHAKE_REQ) {
            this.#answer(ws, MsgType.DATA_HAND_SHAKE_RESP, StatusCode.DUPLICATE_MEDIA_DATA_CONNECTION, 'this socket has already completed its handshake', stream?.id.rtmsStreamId ?? '');
          }
        }
        return;
      }
      if (m.msg_type !== MsgType.DATA_HAND_SHAKE_REQ) {
        counters.badClientFrames++;
        this.#reject(ws, MsgType.DATA_HAND_SHAKE_RESP, StatusCode.INVALID_MESSAGE_TYPE, `expected DATA_HAND_SHAKE_REQ (3), got msg_type ${m.msg_type}`, pathStreamId);
        return;
      }
      const verdict = this.#authenticate(m, pathStreamId);
      if ('status' in verdict) return this.#reject(ws, MsgType.DATA_HAND_SHAKE_RESP, verdict.status, verdict.reason, m.rtms_stream_id);
      stream = verdict.stream;
      const owner = stream.holder;
      if (!owner) {
        // No signaling connection holds the stream (it dropped meanwhile): the media socket is closed
        // without a status, so a client re-opens signaling first instead of giving up.
        counters.connections.rejected_other++;
        ws.close(1008, 'no signaling connection holds this stream');
        return;
      }
      const granted = this.#grant(m, route, stream.id.product);
      if ('status' in granted) return this.#reject(ws, MsgType.DATA_HAND_SHAKE_RESP, granted.status, granted.reason, m.rtms_stream_id);
      sock = granted.sock;
      sock.ws = ws;
      owner.media.push(sock);
      for (const k of sock.kinds) owner.requested.add(k);
      counters.connections.media++;
      const s = stream;
      const ownerConn = owner;
      sock.supervisor = new KeepAlive(ws, this.opts.keepAliveIntervalMs, this.opts.keepAliveMaxMissed, counters, () => ownerConn.isStalled(s.t), () => {});
      const mine = sock;
      ws.on('close', () => {
        mine.supervisor?.stop();
        const i = ownerConn.media.indexOf(mine);
        if (i >= 0) ownerConn.media.splice(i, 1);
        mine.audio?.encoder.destroy?.();
        s.mediaLost(ownerConn);
      });
      ws.send(
        JSON.stringify({
          msg_type: MsgType.DATA_HAND_SHAKE_RESP,
          protocol_version: 1,
          status_code: StatusCode.SUCCESS,
          reason: '',
          sequence: m.sequence ?? 0,
          payload_encrypted: false,
          media_params: granted.params,
        }),
      );
      this.opts.hooks?.handshake?.({ role: 'media', rtmsStreamId: stream.id.rtmsStreamId, statusCode: StatusCode.SUCCESS, reason: '', route, mediaParams: granted.params });
    });
  }

  /** Applies documented defaults to the requested media and checks the rules. */
  #grant(m: Message<3>, route: string, product: string): { sock: MediaSocket; params: MediaParams } | { status: number; reason: string } {
    const routeKinds = EmulatedStream.routeKinds(route)!;
    const voiceOnly = VOICE_ONLY.has(product);
    const asked = kindsOfMask(m.media_type).filter((k) => routeKinds.includes(k));
    const kinds = asked.filter((k) => !voiceOnly || k === 'audio' || k === 'transcript');
    if (kinds.length === 0) {
      if (asked.length > 0) return { status: NOT_SUPPORTED[asked[0]], reason: `a ${product} stream carries no ${asked[0]}` };
      return { status: StatusCode.INVALID_MEDIA_TYPE, reason: `media_type ${m.media_type} asks for nothing this socket (${route}) can carry` };
    }
    const req = m.media_params ?? {};
    const params: MediaParams = {};
    const sock: MediaSocket = {
      ws: undefined as unknown as WebSocket,
      route,
      handshaken: true,
      acked: false,
      kinds: new Set<MediaKind>(kinds),
      videoIndex: 0,
      shareIndex: 0,
      lastVideoFrame: -1,
      lastShareFrame: -1,
    };
    for (const k of kinds) {
      if (k === 'audio') {
        const cfg = audioParams(req.audio);
        const problems = checkAudioParams(cfg);
        if (problems.length) return paramsRejected(k, problems);
        const rate = SAMPLE_RATE_HZ[cfg.sample_rate as SampleRate];
        try {
          sock.audio = { cfg, rate, channels: cfg.channel, encoder: createAudioEncoder(cfg.codec, rate, cfg.channel) };
        } catch (err) {
          return { status: StatusCode.INVALID_MEDIA_AUDIO_CODEC, reason: (err as Error).message };
        }
        params.audio = cfg;
      } else if (k === 'video' || k === 'deskshare') {
        const cfg = k === 'video' ? videoParams(req.video) : deskshareParams(req.deskshare);
        const problems = checkVideoParams(cfg, k);
        if (problems.length) return paramsRejected(k, problems);
        sock[k] = cfg;
        params[k] = cfg;
      } else if (k === 'transcript') {
        const cfg = transcriptParams(req.transcript);
        const problems = checkTranscriptParams(cfg);
        // A bad translation target has its own status (46, July 2026): statusForParams finds it by field.
        if (problems.length) return paramsRejected(k, problems);
        sock.transcript = cfg;
        params.transcript = cfg;
      } else {
        params.chat = { content_type: 5 };
      }
    }
    return { sock, params };
  }
}
