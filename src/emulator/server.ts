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
  StatusCode2026,
  audioParams,
  checkAudioParams,
  checkTranscriptParams,
  checkVideoParams,
  deskshareParams,
  kindsOfMask,
  parseMessage,
  rtmsSignature,
  safeEqual,
  transcriptParams,
  videoParams,
  type AnyMessage,
  type MediaKind,
  type MediaParams,
  type Message,
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
  keepAliveToleranceMs: { signaling: number; media: number };
  counters: Counters;
  lookup(streamId: string): EmulatedStream | undefined;
  /** Observers (the Emulator re-emits them as typed events). */
  hooks?: ServerHooks;
}

/** What the server reports as it happens. */
export interface ServerHooks {
  /** A WebSocket was accepted (before any handshake). */
  connection?(info: { role: 'signaling' | 'media'; path: string }): void;
  /** A handshake was answered, accepted (status 0) or not. */
  handshake?(info: HandshakeInfo): void;
  /** A newcomer's signaling handshake ended the connection that held the stream. */
  kicked?(info: { rtmsStreamId: string; by: 'takeover' }): void;
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

/** Maps a parse failure to the RTMS status a handshake response carries. */
function statusForParseError(error: ProtocolError): number {
  const field = String(error.details.field ?? '');
  switch (error.code) {
    case 'RTMS_BAD_JSON':
      return StatusCode.STATUS_INVALID_JSON_MSG;
    case 'RTMS_FRAME_TOO_LARGE':
      return StatusCode.STATUS_INVALID_JSON_MSG_SIZE;
    case 'RTMS_UNKNOWN_MSG_TYPE':
      return StatusCode.STATUS_INVALID_MESSAGE_TYPE;
    default:
      if (field === 'msg_type') return error.details.received === 'missing' ? StatusCode.STATUS_MSG_TYPE_NOT_EXIST : StatusCode.STATUS_MSG_TYPE_NOT_UINT;
      if (field === 'signature') return StatusCode.STATUS_SIGNATURE_NOT_EXIST;
      if (field === 'rtms_stream_id') return StatusCode.STATUS_RTMS_STREAM_ID_NOT_EXIST;
      if (field === 'meeting_uuid' || field === 'session_id' || field === 'engagement_id') return StatusCode.STATUS_MEETING_UUID_NOT_EXIST;
      if (field === 'media_type') return StatusCode.STATUS_INVALID_MEDIA_TYPE;
      if (field.startsWith('media_params')) return StatusCode.STATUS_INVALID_MEDIA_PARAMS;
      return StatusCode.STATUS_INVALID_JSON_MSG;
  }
}

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
  port = 0;

  constructor(private readonly opts: ServerOptions) {
    this.#http = this.#createHttp();
  }

  #createHttp(): Server {
    const http = createServer((_req, res) => {
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

  signalingUrl(streamId: string): string {
    return `${this.baseUrl}/signaling/${encodeURIComponent(streamId)}`;
  }

  mediaUrls(streamId: string): Record<string, string> {
    const base = `${this.baseUrl}/media/${encodeURIComponent(streamId)}`;
    return { all: `${base}/all`, audio: `${base}/audio`, video: `${base}/video`, deskshare: `${base}/deskshare`, transcript: `${base}/transcript`, chat: `${base}/chat` };
  }

  /** Fault `restart`: drop every socket, stop listening for `ms`, then accept reconnects on the same port. */
  async restart(ms: number): Promise<void> {
    if (this.#down) return;
    this.#down = true;
    for (const ws of this.#sockets) ws.terminate();
    await new Promise<void>((r) => this.#http.close(() => r()));
    this.#http.closeAllConnections?.();
    await new Promise((r) => setTimeout(r, ms));
    this.#http = this.#createHttp();
    await this.listen();
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
      conn?.signalingSupervisor?.seen();
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
          this.#reject(ws, MsgType.SIGNALING_HAND_SHAKE_RESP, StatusCode.STATUS_INVALID_MESSAGE_TYPE, `expected SIGNALING_HAND_SHAKE_REQ (1), got msg_type ${m.msg_type}`, pathStreamId);
          return;
        }
        const verdict = this.#authenticate(m, pathStreamId);
        if ('status' in verdict) {
          this.#reject(ws, MsgType.SIGNALING_HAND_SHAKE_RESP, verdict.status, verdict.reason, m.rtms_stream_id);
          return;
        }
        stream = verdict.stream;
        conn = new Connection(ws);
        const c = conn;
        const s = stream;
        const { kicked } = stream.attach(conn);
        counters.connections.signaling++;
        if (kicked) {
          counters.connections.kicked++;
          this.opts.hooks?.kicked?.({ rtmsStreamId: stream.id.rtmsStreamId, by: 'takeover' });
        }
        conn.signalingSupervisor = new KeepAlive(ws, this.opts.keepAliveIntervalMs, this.opts.keepAliveToleranceMs.signaling, counters, () => c.isStalled(s.t));
        ws.on('close', () => s.detach(c));
        ws.send(
          JSON.stringify({
            msg_type: MsgType.SIGNALING_HAND_SHAKE_RESP,
            protocol_version: 1,
            status_code: StatusCode.STATUS_OK,
            reason: '',
            media_server: { server_urls: this.mediaUrls(stream.id.rtmsStreamId), srtp_keys: {} },
          }),
        );
        this.opts.hooks?.handshake?.({ role: 'signaling', rtmsStreamId: stream.id.rtmsStreamId, statusCode: StatusCode.STATUS_OK, reason: '' });
        return;
      }
      if (m.msg_type === MsgType.SIGNALING_HAND_SHAKE_REQ) {
        // A second handshake on a socket that already holds the stream: answered, the socket stays.
        counters.badClientFrames++;
        this.#answer(ws, MsgType.SIGNALING_HAND_SHAKE_RESP, StatusCode.STATUS_DUPLICATE_SIGNAL_REQUEST, 'this socket has already completed its handshake', stream!.id.rtmsStreamId);
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
        if (!conn.ready) stream.clientReady(conn);
        return;
      case MsgType.KEEP_ALIVE_RESP:
        this.opts.counters.keepalive.answered++;
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
        send({ msg_type: MsgType.VIDEO_SUBSCRIPTION_RESP, rtms_stream_id: sid, user_id: m.user_id, status_code: known ? 0 : StatusCode.STATUS_INVALID_MEDIA_PARAMS, subscribe: known && m.subscribe !== false, reason: known ? '' : 'unknown user_id' });
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
      return { status: StatusCode.STATUS_RTMS_STREAM_ID_NOT_EXIST, reason: `unknown rtms_stream_id "${m.rtms_stream_id}"` };
    }
    const id = m.meeting_uuid || m.session_id || m.engagement_id || '';
    if (id !== stream.id.meetingUuid) {
      counters.connections.rejected_other++;
      return { status: StatusCode.STATUS_MEETING_UUID_NOT_EXIST, reason: `${stream.id.idField} does not match the stream` };
    }
    if (!safeEqual(rtmsSignature(this.opts.clientId, this.opts.clientSecret, id, m.rtms_stream_id), m.signature)) {
      counters.connections.rejected_signature++;
      return { status: StatusCode.STATUS_INVALID_SIGNATURE, reason: 'signature does not match HMAC-SHA256(client secret, "client_id,id,rtms_stream_id")' };
    }
    if (stream.ended) {
      counters.connections.rejected_finished++;
      return { status: StatusCode.STATUS_STREAM_TERMINATED, reason: 'the stream has ended' };
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
      sock?.supervisor?.seen();
      const parsed = parseMessage(raw as Buffer, { allowed: CLIENT_TO_SERVER, maxFrameBytes: MAX_CLIENT_FRAME });
      if (!parsed.ok) {
        counters.badClientFrames++;
        if (!sock) this.#reject(ws, MsgType.DATA_HAND_SHAKE_RESP, statusForParseError(parsed.error), parsed.error.message, streamIdOf(raw));
        return;
      }
      const m = parsed.message;
      if (sock) {
        if (m.msg_type === MsgType.KEEP_ALIVE_RESP) counters.keepalive.answered++;
        else {
          counters.badClientFrames++;
          if (m.msg_type === MsgType.DATA_HAND_SHAKE_REQ) {
            this.#answer(ws, MsgType.DATA_HAND_SHAKE_RESP, StatusCode.STATUS_DUPLICATE_MEDIA_REQUEST, 'this socket has already completed its handshake', stream?.id.rtmsStreamId ?? '');
          }
        }
        return;
      }
      if (m.msg_type !== MsgType.DATA_HAND_SHAKE_REQ) {
        counters.badClientFrames++;
        this.#reject(ws, MsgType.DATA_HAND_SHAKE_RESP, StatusCode.STATUS_INVALID_MESSAGE_TYPE, `expected DATA_HAND_SHAKE_REQ (3), got msg_type ${m.msg_type}`, pathStreamId);
        return;
      }
      const verdict = this.#authenticate(m, pathStreamId);
      if ('status' in verdict) return this.#reject(ws, MsgType.DATA_HAND_SHAKE_RESP, verdict.status, verdict.reason, m.rtms_stream_id);
      stream = verdict.stream;
      const owner = stream.conn;
      if (!owner || owner.closed) {
        return this.#reject(ws, MsgType.DATA_HAND_SHAKE_RESP, StatusCode.STATUS_STREAM_NOT_ACTIVE, 'no signaling connection holds this stream; do the signaling handshake first', m.rtms_stream_id);
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
      sock.supervisor = new KeepAlive(ws, this.opts.keepAliveIntervalMs, this.opts.keepAliveToleranceMs.media, counters, () => ownerConn.isStalled(s.t));
      const mine = sock;
      ws.on('close', () => {
        mine.supervisor?.stop();
        const i = ownerConn.media.indexOf(mine);
        if (i >= 0) ownerConn.media.splice(i, 1);
        mine.audio?.encoder.destroy?.();
      });
      ws.send(
        JSON.stringify({
          msg_type: MsgType.DATA_HAND_SHAKE_RESP,
          protocol_version: 1,
          status_code: StatusCode.STATUS_OK,
          reason: '',
          sequence: m.sequence ?? 0,
          payload_encrypted: false,
          media_params: granted.params,
        }),
      );
      this.opts.hooks?.handshake?.({ role: 'media', rtmsStreamId: stream.id.rtmsStreamId, statusCode: StatusCode.STATUS_OK, reason: '', route, mediaParams: granted.params });
    });
  }

  /** Applies documented defaults to the requested media and checks the rules. */
  #grant(m: Message<3>, route: string, product: string): { sock: MediaSocket; params: MediaParams } | { status: number; reason: string } {
    const routeKinds = EmulatedStream.routeKinds(route)!;
    const voiceOnly = product === 'contact_center';
    const kinds = kindsOfMask(m.media_type).filter((k) => routeKinds.includes(k) && (!voiceOnly || k === 'audio' || k === 'transcript'));
    if (kinds.length === 0) {
      return { status: StatusCode.STATUS_INVALID_MEDIA_TYPE, reason: `media_type ${m.media_type} asks for nothing this socket (${route}) can carry` };
    }
    const req = m.media_params ?? {};
    const params: MediaParams = {};
    const sock: MediaSocket = {
      ws: undefined as unknown as WebSocket,
      route,
      handshaken: true,
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
        if (problems.length) return { status: StatusCode.STATUS_INVALID_MEDIA_PARAMS, reason: problems.map((p) => `${p.field}: ${p.message}`).join('; ') };
        const rate = SAMPLE_RATE_HZ[cfg.sample_rate as SampleRate];
        try {
          sock.audio = { cfg, rate, channels: cfg.channel, encoder: createAudioEncoder(cfg.codec, rate, cfg.channel) };
        } catch (err) {
          return { status: StatusCode.STATUS_INVALID_MEDIA_PARAMS, reason: (err as Error).message };
        }
        params.audio = cfg;
      } else if (k === 'video' || k === 'deskshare') {
        const cfg = k === 'video' ? videoParams(req.video) : deskshareParams(req.deskshare);
        const problems = checkVideoParams(cfg, k);
        if (problems.length) return { status: StatusCode.STATUS_INVALID_MEDIA_PARAMS, reason: problems.map((p) => `${p.field}: ${p.message}`).join('; ') };
        sock[k] = cfg;
        params[k] = cfg;
      } else if (k === 'transcript') {
        const cfg = transcriptParams(req.transcript);
        const problems = checkTranscriptParams(cfg);
        // A bad translation target has its own status (46, July 2026).
        const status = problems.some((p) => p.field === 'transcript.target_language') ? StatusCode2026.INVALID_MEDIA_TRANSCRIPT_TARGET_LANGUAGE : StatusCode.STATUS_INVALID_MEDIA_PARAMS;
        if (problems.length) return { status, reason: problems.map((p) => `${p.field}: ${p.message}`).join('; ') };
        sock.transcript = cfg;
        params.transcript = cfg;
      } else {
        params.chat = { content_type: 5 };
      }
    }
    return { sock, params };
  }
}
