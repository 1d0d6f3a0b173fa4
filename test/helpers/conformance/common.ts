/**
 * What both conformance clients share: raw `ws` sockets, the handshake signature and frame counts.
 * These clients are ours, written from the behaviour Zoom documents and shows in its own code
 * (the reconnection sample and the helper library); they run in tests only.
 */
import WebSocket from 'ws';
import { rtmsSignature } from '../../../src/protocol/index.js';

export type FrameKind = 'audio' | 'video' | 'share' | 'transcript' | 'chat';
export type Frames = Record<FrameKind, number>;
export const zeroFrames = (): Frames => ({ audio: 0, video: 0, share: 0, transcript: 0, chat: 0 });

/** msg_type of media data → the emulator summary's kind. */
export const FRAME_KIND: Record<number, FrameKind> = { 14: 'audio', 15: 'video', 16: 'share', 17: 'transcript', 18: 'chat' };

export type Msg = Record<string, any>;

/** A lifecycle webhook as the emulator delivers it in-process. */
export interface Webhook {
  event: string;
  payload: Msg;
}

/** The id of any product's payload (Zoom's library reads the product's own field). */
export const idOf = (p: Msg): string => p.meeting_uuid ?? p.webinar_uuid ?? p.session_id ?? p.engagement_id ?? p.call_id;

export interface Credentials {
  clientId: string;
  clientSecret: string;
}

export function signature(c: Credentials, id: string, streamId: string): string {
  return rtmsSignature(c.clientId, c.clientSecret, id, streamId);
}

/** Opens a socket whose JSON messages go to `onMessage`; errors are swallowed (a close follows). */
export function openSocket(url: string, onMessage: (m: Msg) => void, onOpen: () => void, onClose: () => void): WebSocket {
  const ws = new WebSocket(url);
  ws.on('open', onOpen);
  ws.on('message', (d) => {
    try {
      onMessage(JSON.parse(d.toString()));
    } catch {
      // malformed frames (fault `malformed`) are skipped, as both of Zoom's codes do
    }
  });
  ws.on('close', onClose);
  ws.on('error', () => {});
  return ws;
}

export function send(ws: WebSocket | undefined, m: Msg): void {
  if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
}

export function closeQuietly(ws: WebSocket | undefined): void {
  if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) ws.close();
}

/** Counts one received message in a per-stream table when it is media data. */
export function countFrame(table: Map<string, Frames>, streamId: string, msgType: number): void {
  const kind = FRAME_KIND[msgType];
  if (!kind) return;
  let f = table.get(streamId);
  if (!f) table.set(streamId, (f = zeroFrames()));
  f[kind]++;
}

/** A client under test: fed every webhook, counts what it receives per stream. */
export interface ConformanceClient {
  readonly name: string;
  webhook(w: Webhook): void;
  /** Frames received per stream id. */
  frames(streamId: string): Frames;
  /** Closes everything. */
  close(): void;
}
