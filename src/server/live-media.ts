/**
 * `GET /api/live/media?stream=ID` (WebSocket): one viewer of one live stream's picture and sound, as
 * binary messages (see src/live/media.ts). Registered inside the API plugin, so the API token applies
 * (Bearer header, `?token=` or the dashboard's cookie).
 *
 * Commands (JSON text): `{"type":"audio","mode":"mixed"|"solo"|"off","userId":"…"}` picks what the
 * viewer hears; `{"type":"video-user","userId":"…"|null}` asks Zoom for one participant's camera
 * (VIDEO_SUBSCRIPTION_REQ; it changes the camera for every viewer of the stream) or back to the active speaker.
 */
import type { FastifyInstance } from 'fastify';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { AudioChoice, LiveMediaHub, MediaViewer } from '../live/media.js';

export interface LiveMediaRoutesOptions {
  media: LiveMediaHub;
}

/** ws's Sender state when it writes at once (`DEFAULT` in ws/lib/sender.js). */
const SENDER_IDLE = 0;

/** What of ws's internals {@link rawWriter} relies on (ws 8). */
interface WsInternals {
  _socket?: Socket;
  _sender?: { _state?: unknown; _queue?: unknown[] };
}

/**
 * Writes a pre-built WebSocket frame (src/live/media.ts `wsBinaryFrame`) straight to the TCP socket
 * under `ws`: one write per viewer per batch, the frame built once for all of them, none of ws's
 * per-send framing (header allocation, cork, two-buffer writev). Only while that is what ws itself
 * would write at once: the socket open, no extension negotiated (no permessage-deflate: frames go
 * out as they are) and ws's sender idle with nothing queued (it queues only while compressing or
 * reading a Blob, neither of which happens here); otherwise false, and the caller uses `send`.
 * The bytes count in `bufferedAmount` like ws's own (it reads the socket's writable length).
 */
function rawWriter(socket: WebSocket): ((frame: Buffer) => boolean) | undefined {
  const ws = socket as unknown as WsInternals;
  if (!ws._socket || !ws._sender || !Array.isArray(ws._sender._queue) || ws._sender._state !== SENDER_IDLE || socket.extensions !== '') return undefined;
  const raw = ws._socket;
  const sender = ws._sender;
  return (frame) => {
    if (socket.readyState !== socket.OPEN || sender._state !== SENDER_IDLE || sender._queue!.length || raw.destroyed) return false;
    raw.write(frame);
    return true;
  };
}

export async function liveMediaRoutes(app: FastifyInstance, opts: LiveMediaRoutesOptions): Promise<void> {
  app.get<{ Querystring: { stream: string } }>(
    '/api/live/media',
    { websocket: true, schema: { querystring: { type: 'object', required: ['stream'], properties: { stream: { type: 'string', minLength: 1 }, token: { type: 'string' } } } } },
    (socket: WebSocket, req) => {
      const id = req.query.stream;
      const sink = opts.media.stream(id);
      if (!sink) {
        socket.send(JSON.stringify({ type: 'error', code: 'NOT_LIVE', message: `stream ${id} is not live on this server; play its recording instead` }));
        socket.close(1000, 'not live');
        return;
      }
      const viewer: MediaViewer = sink.watch({ send: (d) => socket.send(d), bufferedAmount: () => socket.bufferedAmount, sendFramed: rawWriter(socket) });
      const ping = setInterval(() => socket.ping(), 15_000);
      socket.on('message', (data, isBinary) => {
        if (!isBinary) void command(viewer, id, data.toString(), socket);
      });
      socket.on('close', () => {
        clearInterval(ping);
        viewer.close();
      });
      socket.on('error', () => socket.terminate());
    },
  );

  async function command(viewer: MediaViewer, streamId: string, text: string, socket: WebSocket): Promise<void> {
    let cmd: { type?: unknown; mode?: unknown; userId?: unknown };
    try {
      cmd = JSON.parse(text) as typeof cmd;
    } catch {
      return socket.send(JSON.stringify({ type: 'error', code: 'BAD_JSON', message: 'send JSON like {"type":"audio","mode":"mixed"}' }));
    }
    if (cmd.type === 'audio') {
      const choice: AudioChoice | undefined =
        cmd.mode === 'mixed' ? { mode: 'mixed' } : cmd.mode === 'off' ? { mode: 'off' } : cmd.mode === 'solo' && typeof cmd.userId === 'string' ? { mode: 'solo', userId: cmd.userId } : undefined;
      if (!choice) return socket.send(JSON.stringify({ type: 'error', code: 'BAD_COMMAND', message: 'audio: mode must be mixed, off, or solo with a userId' }));
      viewer.audio = choice;
      return;
    }
    if (cmd.type === 'video-user') {
      const userId = typeof cmd.userId === 'string' && cmd.userId ? cmd.userId : null;
      try {
        await opts.media.requestVideo(streamId, userId);
        socket.send(JSON.stringify({ type: 'video-user', streamId, userId, ok: true }));
      } catch (err) {
        socket.send(JSON.stringify({ type: 'video-user', streamId, userId, ok: false, message: (err as Error).message }));
      }
      return;
    }
    socket.send(JSON.stringify({ type: 'error', code: 'BAD_COMMAND', message: 'unknown command; use audio or video-user' }));
  }
}
