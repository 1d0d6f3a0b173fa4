/**
 * A facade with the shape of Zoom's Node SDK (`@zoom/rtms`), so an app written for it runs on
 * openrtms by changing its import: `import rtms from 'openrtms/compat'`.
 *
 * Covered: `onWebhookEvent` (starts a webhook server on ZM_RTMS_PORT / ZM_RTMS_PATH), `new Client()`,
 * `onAudioData` / `onVideoData` / `onDeskshareData` / `onTranscriptData` / `onChatData` with the SDK's
 * `(buffer, size, timestamp, metadata)` arguments, `onJoinConfirm`, `onSessionUpdate`, `onUserUpdate`,
 * `onActiveSpeakerEvent`, `onLeave`, `setAudioParams` / `setVideoParams` / `setDeskshareParams` /
 * `setTranscriptParams`, `join(payload)`, `leave()`, `generateSignature`, and the constant tables.
 * Underneath is the native-free RtmsClient, with its reconnect policy.
 */
import { createServer, type Server } from 'node:http';
import { RtmsClient } from '../client/client.js';
import type { RtmsClientOptions } from '../client/types.js';
import {
  Channel,
  Codec,
  ContentType,
  DataOption,
  EventType,
  MediaType,
  Resolution,
  SampleRate,
  SessionState,
  StopReason,
  StreamState,
  rtmsSignature,
  urlValidationResponse,
  verifyWebhook,
  type AudioParams,
  type MediaKind,
  type TranscriptParams,
  type VideoParams,
} from '../protocol/index.js';

/** Who sent a frame, as the SDK's `Metadata`. */
export interface Metadata {
  userName: string;
  userId: number;
}
export type DataCallback = (buffer: Buffer, size: number, timestamp: number, metadata: Metadata) => void;

export const AudioCodec = { UNDEFINED: 0, L16: Codec.L16, G711: Codec.G711, G722: Codec.G722, OPUS: Codec.OPUS } as const;
export const VideoCodec = { UNDEFINED: 0, JPG: Codec.JPG, PNG: Codec.PNG, H264: Codec.H264 } as const;
export const AudioSampleRate = SampleRate;
export const AudioChannel = Channel;
export const AudioContentType = { UNDEFINED: 0, RTP: ContentType.RTP, RAW_AUDIO: ContentType.RAW_AUDIO, FILE_STREAM: ContentType.FILE_STREAM, TEXT: ContentType.TEXT } as const;
export const VideoContentType = { UNDEFINED: 0, RTP: ContentType.RTP, RAW_VIDEO: ContentType.RAW_VIDEO, FILE_STREAM: ContentType.FILE_STREAM, TEXT: ContentType.TEXT } as const;
export const AudioDataOption = { UNDEFINED: 0, AUDIO_MIXED_STREAM: DataOption.AUDIO_MIXED_STREAM, AUDIO_MULTI_STREAMS: DataOption.AUDIO_MULTI_STREAMS } as const;
export const VideoDataOption = { UNDEFINED: 0, VIDEO_SINGLE_ACTIVE_STREAM: DataOption.VIDEO_SINGLE_ACTIVE_STREAM, VIDEO_SINGLE_INDIVIDUAL_STREAM: DataOption.VIDEO_SINGLE_INDIVIDUAL_STREAM, VIDEO_MIXED_GALLERY_VIEW: DataOption.VIDEO_MIXED_GALLERY_VIEW } as const;
export const VideoResolution = Resolution;
export { EventType, SessionState, StreamState, StopReason };
export const MEDIA_TYPE_AUDIO = MediaType.AUDIO;
export const MEDIA_TYPE_VIDEO = MediaType.VIDEO;
export const MEDIA_TYPE_DESKSHARE = MediaType.DESKSHARE;
export const MEDIA_TYPE_TRANSCRIPT = MediaType.TRANSCRIPT;
export const MEDIA_TYPE_CHAT = MediaType.CHAT;
export const MEDIA_TYPE_ALL = MediaType.ALL;
/** `onUserUpdate` operations. */
export const USER_JOIN = 0;
export const USER_LEAVE = 1;
/** Status codes the SDK's callbacks carry. */
export const RTMS_SDK_OK = 0;
export const RTMS_SDK_FAILURE = -1;

/** Signature of the handshake: HMAC-SHA256 of "client,uuid,streamId" with the secret. */
export function generateSignature(p: { client?: string; secret?: string; uuid: string; streamId: string }): string {
  const client = p.client ?? process.env.ZM_RTMS_CLIENT ?? process.env.ZOOM_CLIENT_ID ?? '';
  const secret = p.secret ?? process.env.ZM_RTMS_SECRET ?? process.env.ZOOM_CLIENT_SECRET ?? '';
  return rtmsSignature(client, secret, p.uuid, p.streamId);
}

const camel = (o: Record<string, unknown> = {}): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  return out;
};

/** One stream connection, with the SDK's callback-setter API. */
export class Client {
  #audio?: DataCallback;
  #video?: DataCallback;
  #deskshare?: DataCallback;
  #transcript?: DataCallback;
  #chat?: DataCallback;
  #joinConfirm?: (reason: number) => void;
  #sessionUpdate?: (op: number, info: { sessionId: string; statTime: number; status: number }) => void;
  #userUpdate?: (op: number, participant: { id: number; name: string }) => void;
  #activeSpeaker?: (timestamp: number, userId: number, userName: string) => void;
  #leave?: (reason: number) => void;
  #params: { audio?: AudioParams; video?: VideoParams; deskshare?: VideoParams; transcript?: TranscriptParams } = {};
  #client?: RtmsClient;

  onAudioData(cb: DataCallback): boolean { this.#audio = cb; return true; }
  onVideoData(cb: DataCallback): boolean { this.#video = cb; return true; }
  onDeskshareData(cb: DataCallback): boolean { this.#deskshare = cb; return true; }
  onTranscriptData(cb: DataCallback): boolean { this.#transcript = cb; return true; }
  onChatData(cb: DataCallback): boolean { this.#chat = cb; return true; }
  onJoinConfirm(cb: (reason: number) => void): boolean { this.#joinConfirm = cb; return true; }
  onSessionUpdate(cb: (op: number, info: { sessionId: string; statTime: number; status: number }) => void): boolean { this.#sessionUpdate = cb; return true; }
  onUserUpdate(cb: (op: number, participant: { id: number; name: string }) => void): boolean { this.#userUpdate = cb; return true; }
  onActiveSpeakerEvent(cb: (timestamp: number, userId: number, userName: string) => void): boolean { this.#activeSpeaker = cb; return true; }
  onLeave(cb: (reason: number) => void): boolean { this.#leave = cb; return true; }

  /** SDK-style camelCase (`sampleRate`, `dataOpt`…) or wire snake_case both work. */
  setAudioParams(p: Record<string, unknown>): boolean { this.#params.audio = camel(p) as AudioParams; return true; }
  setVideoParams(p: Record<string, unknown>): boolean { this.#params.video = camel(p) as VideoParams; return true; }
  setDeskshareParams(p: Record<string, unknown>): boolean { this.#params.deskshare = camel(p) as VideoParams; return true; }
  setTranscriptParams(p: Record<string, unknown>): boolean { this.#params.transcript = camel(p) as TranscriptParams; return true; }

  /**
   * Joins from a webhook payload (`meeting_uuid` or `session_id` or `engagement_id`, `rtms_stream_id`,
   * `server_urls`; optional `client`, `secret`, `timeout`). Returns at once, as the SDK does; the
   * outcome arrives through `onJoinConfirm` (0 = joined) and `onLeave`.
   */
  join(payload: Record<string, unknown>): boolean {
    const media: MediaKind[] = [];
    if (this.#audio) media.push('audio');
    if (this.#video) media.push('video');
    if (this.#deskshare) media.push('deskshare');
    if (this.#transcript) media.push('transcript');
    if (this.#chat) media.push('chat');
    const options: RtmsClientOptions = {
      clientId: (payload.client as string) ?? undefined,
      clientSecret: (payload.secret as string) ?? undefined,
      media: media.length ? media : undefined,
      ...this.#params,
      ...(typeof payload.timeout === 'number' ? { joinTimeoutMs: payload.timeout } : {}),
    };
    const c = new RtmsClient(options);
    this.#client = c;
    const meta = (f: { userId: number | string; userName: string }): Metadata => ({ userId: Number(f.userId), userName: f.userName });
    c.on('audio', (f) => this.#audio?.(f.data, f.data.length, f.timestamp, meta(f)));
    c.on('video', (f) => this.#video?.(f.data, f.data.length, f.timestamp, meta(f)));
    c.on('deskshare', (f) => this.#deskshare?.(f.data, f.data.length, f.timestamp, meta(f)));
    c.on('transcript', (t) => {
      const b = Buffer.from(t.text, 'utf8');
      this.#transcript?.(b, b.length, t.timestamp, meta(t));
    });
    c.on('chat', (m) => {
      const b = Buffer.from(m.text, 'utf8');
      this.#chat?.(b, b.length, m.timestamp, meta(m));
    });
    c.on('joined', (j) => !j.reconnected && this.#joinConfirm?.(RTMS_SDK_OK));
    c.on('sessionState', (s) => this.#sessionUpdate?.(s.state, { sessionId: String(payload.meeting_uuid ?? payload.session_id ?? payload.engagement_id ?? ''), statTime: s.timestamp ?? Date.now(), status: s.state }));
    c.on('participant', (p) => {
      for (const who of p.participants) this.#userUpdate?.(p.action === 'join' ? USER_JOIN : USER_LEAVE, { id: Number(who.userId), name: who.userName });
    });
    c.on('activeSpeaker', (s) => this.#activeSpeaker?.(s.timestamp, Number(s.userId), s.userName));
    c.on('closed', (e) => this.#leave?.(e.stopReason ?? (e.error ? RTMS_SDK_FAILURE : StopReason.STOP_BC_RECEIVER_REQUEST_CLOSE)));
    c.join(payload as never).catch((err: { code?: string }) => {
      if (err.code !== undefined) this.#joinConfirm?.(RTMS_SDK_FAILURE);
    });
    return true;
  }

  /** Leaves gracefully (STREAM_CLOSE_REQ). */
  leave(): boolean {
    if (!this.#client || this.#client.state === 'idle') return false;
    void this.#client.leave();
    return true;
  }
}

let webhookServer: Server | undefined;

/**
 * Starts a webhook server on ZM_RTMS_PORT (8080) at ZM_RTMS_PATH (/webhook) and calls `callback`
 * with `{ event, payload }` for each webhook. With ZOOM_SECRET_TOKEN set, signatures are verified
 * and Zoom's URL validation is answered. Returns the server (close it to stop).
 */
export function onWebhookEvent(callback: (body: { event: string; payload: Record<string, unknown> }) => void): Server {
  const port = Number(process.env.ZM_RTMS_PORT ?? 8080);
  const path = process.env.ZM_RTMS_PATH ?? '/webhook';
  const token = process.env.ZOOM_SECRET_TOKEN;
  webhookServer = createServer((req, res) => {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== path) return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (token && !verifyWebhook(token, raw, req.headers['x-zm-signature'] as string, req.headers['x-zm-request-timestamp'] as string).ok) {
        return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad signature"}');
      }
      let body: { event?: string; payload?: Record<string, unknown> };
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return void res.writeHead(400).end();
      }
      if (body.event === 'endpoint.url_validation' && token) {
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(urlValidationResponse(token, String(body.payload?.plainToken ?? ''))));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      setImmediate(() => callback({ event: String(body.event), payload: body.payload ?? {} }));
    });
  });
  webhookServer.listen(port, process.env.ZM_RTMS_HOST ?? '127.0.0.1');
  return webhookServer;
}

const rtms = {
  Client,
  onWebhookEvent,
  generateSignature,
  AudioCodec,
  VideoCodec,
  AudioSampleRate,
  AudioChannel,
  AudioContentType,
  VideoContentType,
  AudioDataOption,
  VideoDataOption,
  VideoResolution,
  EventType,
  SessionState,
  StreamState,
  StopReason,
  MEDIA_TYPE_AUDIO,
  MEDIA_TYPE_VIDEO,
  MEDIA_TYPE_DESKSHARE,
  MEDIA_TYPE_TRANSCRIPT,
  MEDIA_TYPE_CHAT,
  MEDIA_TYPE_ALL,
  USER_JOIN,
  USER_LEAVE,
};
export default rtms;
