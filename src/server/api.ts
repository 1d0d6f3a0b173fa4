/**
 * Fastify plugin: the read-only HTTP API over the store, the registry's live streams, the recording
 * files and the live feed.
 *
 *   GET /api/streams                         streams, most recent first, each with its live status
 *   GET /api/streams/:id                     one stream with participants, state and stats
 *   GET /api/streams/:id/transcript          ?format=json|vtt|srt&source=zoom|<provider> (default zoom;
 *                                            GET /api/streams/:id lists the stream's `transcriptSources`)
 *   GET /api/streams/:id/chat
 *   GET /api/search?q=                       full-text search over transcripts and chat
 *   GET /api/streams/:id/files[/<path>]      recording listing, or one file (Range requests)
 *   GET /api/streams/:id/thumbnail/:kind     latest camera (video) or screen-share (deskshare) image
 *   GET /api/streams/:id/events              live feed of one stream as Server-Sent Events
 *                                            (stored timeline as JSON for `Accept: application/json`)
 *   GET /api/live[?stream=ID]                live feed as WebSocket JSON messages
 *
 * When `apiToken` is set every route needs it (Bearer header, `?token=` or the dashboard cookie).
 * Errors are JSON `{ error: { code, message } }`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { WebSocket } from 'ws';
import { toJson, type LiveBus } from '../live/bus.js';
import type { ThumbnailKind, ThumbnailStore } from '../live/thumbnails.js';
import type { LiveMessage } from '../live/types.js';
import { toSrt, toVtt } from '../recorder/captions.js';
import { safeName } from '../recorder/paths.js';
import type { Store, StreamState } from '../store/types.js';
import { requireToken } from './auth.js';
import { serveRecording } from './files.js';
import { sortSources, ZOOM_SOURCE } from '../store/sources.js';
import type { LiveMediaHub } from '../live/media.js';
import { liveMediaRoutes } from './live-media.js';

/** What the API reads from the stream registry (StreamRegistry satisfies it). */
export interface LiveStreams {
  list(): { rtmsStreamId: string; meetingUuid: string; product: string; startedAt: number; state: string; participants: number }[];
  get?(id: string): { participants: Map<number | string, string> } | undefined;
}

export interface ApiRoutesOptions {
  store: Store;
  registry?: LiveStreams;
  bus: LiveBus;
  /** Recordings are served from `<dataDir>/recordings/<stream>/`. */
  dataDir?: string;
  apiToken?: string;
  thumbnails?: ThumbnailStore;
  /** Live picture and sound for the dashboard's player (`/api/live/media`). */
  media?: LiveMediaHub;
  /** Comment/ping interval on SSE and WebSocket connections. Default 15 s. */
  heartbeatMs?: number;
  /** Messages held per live subscriber before the oldest are dropped. Default 2048. */
  liveQueue?: number;
  /** The speech-to-text tracks being made for a live stream (their names). */
  transcriptSources?(rtmsStreamId: string): string[];
}

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
} as const;
const idParams = { type: 'object', properties: { id: { type: 'string', minLength: 1 } }, required: ['id'] } as const;
const tokenQuery = { token: { type: 'string' } } as const;
const looseObject = { type: 'object', additionalProperties: true } as const;
const segment = {
  type: 'object',
  properties: {
    userId: { type: 'string' },
    userName: { type: 'string' },
    text: { type: 'string' },
    timestamp: { type: 'number' },
    startTime: { type: 'number' },
    endTime: { type: 'number' },
    language: { type: 'string' },
    // any JSON value, as Zoom sent it
    attribute: {},
    targetLanguage: { type: 'number' },
    source: { type: 'string' },
    words: { type: 'array', items: { type: 'object', properties: { text: { type: 'string' }, startTime: { type: 'number' }, endTime: { type: 'number' }, confidence: { type: 'number' } } } },
  },
} as const;

/** A chat message in its final state (edits applied, deleted ones absent); see ChatRecord. */
const chatRecord = {
  type: 'object',
  properties: {
    userId: { type: 'string' },
    userName: { type: 'string' },
    text: { type: 'string' },
    timestamp: { type: 'number' },
    messageId: { type: 'string' },
    parentMessageId: { type: 'string' },
    chatSession: looseObject,
    receiver: { type: 'object', properties: { userId: { type: 'string' }, userName: { type: 'string' } } },
    files: { type: 'array', items: looseObject },
    reactions: {
      type: 'array',
      items: { type: 'object', properties: { emoji: { type: 'string' }, count: { type: 'number' }, users: { type: 'array', items: { type: 'object', properties: { userId: { type: 'string' }, userName: { type: 'string' } } } } } },
    },
    editedAt: { type: 'number' },
  },
} as const;

/** Pauses from the timeline's paused/resumed events. */
function pausesOf(events: { type: string; timestamp: number }[]): { start: number; end?: number }[] {
  const out: { start: number; end?: number }[] = [];
  for (const e of events) {
    const last = out.at(-1);
    if (e.type === 'paused' && (!last || last.end !== undefined)) out.push({ start: e.timestamp });
    else if (e.type === 'resumed' && last && last.end === undefined) last.end = e.timestamp;
  }
  return out;
}

function fail(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}

export async function apiRoutes(app: FastifyInstance, opts: ApiRoutesOptions): Promise<void> {
  const { store, bus } = opts;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  if (!app.hasDecorator('websocketServer')) await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  app.addHook('onRequest', requireToken(opts.apiToken));
  if (opts.media) await app.register(liveMediaRoutes, { media: opts.media });

  const liveOf = (id: string) => opts.registry?.list().find((s) => s.rtmsStreamId === id);
  const recordingDir = (id: string) => (opts.dataDir ? join(opts.dataDir, 'recordings', safeName(id)) : undefined);
  async function known(id: string): Promise<boolean> {
    if (liveOf(id) || bus.snapshot(id)) return true;
    if (await store.getStream(id)) return true;
    const dir = recordingDir(id);
    return dir !== undefined && existsSync(dir);
  }

  app.get<{ Querystring: { state?: StreamState; limit?: number; offset?: number } }>(
    '/api/streams',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { state: { type: 'string', enum: ['starting', 'active', 'paused', 'reconnecting', 'stopped'] }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 }, offset: { type: 'integer', minimum: 0 }, ...tokenQuery },
        },
        response: { 200: { type: 'object', properties: { streams: { type: 'array', items: looseObject } }, required: ['streams'] } },
      },
    },
    async (req) => {
      const live = new Map((opts.registry?.list() ?? []).map((s) => [s.rtmsStreamId, s]));
      const stored = await store.listStreams({ state: req.query.state, limit: req.query.limit, offset: req.query.offset });
      const rows: Record<string, unknown>[] = stored.map((s) => ({ ...s, live: live.get(s.rtmsStreamId) ?? null }));
      if (!req.query.offset && !req.query.state) {
        for (const [id, s] of live) {
          if (!stored.some((r) => r.rtmsStreamId === id)) rows.unshift({ rtmsStreamId: id, meetingUuid: s.meetingUuid, product: s.product, startedAt: s.startedAt, state: 'starting', stats: {}, live: s });
        }
      }
      return { streams: rows };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/streams/:id',
    { schema: { params: idParams, response: { 200: looseObject, 404: errorSchema } } },
    async (req, reply) => {
      const id = req.params.id;
      const live = liveOf(id);
      const stored = await store.getStream(id);
      if (!live && !stored) return fail(reply, 404, 'NOT_FOUND', `no stream ${id}`);
      const present = opts.registry?.get?.(id)?.participants;
      const pauses = stored ? pausesOf(await store.events(id)) : [];
      // The transcript tracks: Zoom's, the ones stored, and the providers transcribing it now.
      const transcriptSources = sortSources([ZOOM_SOURCE, ...(await store.transcriptSources(id)), ...(live ? (opts.transcriptSources?.(id) ?? []) : [])]);
      return {
        ...(stored ?? { meetingUuid: live!.meetingUuid, product: live!.product, startedAt: live!.startedAt, state: 'starting', stats: {}, participants: [] }),
        rtmsStreamId: id,
        live: live ?? null,
        present: present ? [...present].map(([userId, userName]) => ({ userId: String(userId), userName })) : [],
        thumbnails: opts.thumbnails?.kinds(id) ?? [],
        // When the app was paused (connected, no media): { start, end } in ms, `end` absent while it lasts.
        pauses,
        transcriptSources,
      };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { format: 'json' | 'vtt' | 'srt'; source: string } }>(
    '/api/streams/:id/transcript',
    {
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          properties: { format: { type: 'string', enum: ['json', 'vtt', 'srt'], default: 'json' }, source: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$', default: ZOOM_SOURCE }, ...tokenQuery },
        },
        response: { 200: { type: 'object', properties: { transcript: { type: 'array', items: segment } } }, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const id = req.params.id;
      const format = req.query.format;
      const source = req.query.source;
      const stored = await store.getStream(id);
      const segments = await store.transcript(id, { source });
      if (stored && segments.length === 0 && source !== ZOOM_SOURCE && (stored.state === 'stopped' || !liveOf(id))) {
        const have = sortSources([ZOOM_SOURCE, ...(await store.transcriptSources(id))]);
        return fail(reply, 404, 'NOT_FOUND', `stream ${id} has no transcript track "${source}" (it has: ${have.join(', ')})`);
      }
      if (!stored && segments.length === 0) {
        // Not in the store: the recorder's own files, when there are some.
        const dir = recordingDir(id);
        const base = source === ZOOM_SOURCE ? 'transcript' : `transcript.${source}`;
        const file = dir && join(dir, format === 'json' ? `${base}.jsonl` : `${base}.${format}`);
        const text = file ? await readFile(file, 'utf8').catch(() => undefined) : undefined;
        if (text === undefined) {
          if (liveOf(id) || bus.snapshot(id)) return format === 'json' ? { transcript: [] } : sendCaptions(reply, format, format === 'vtt' ? 'WEBVTT\n\n' : '');
          return fail(reply, 404, 'NOT_FOUND', `no stream ${id}`);
        }
        if (format !== 'json') return sendCaptions(reply, format, text);
        const rows = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
        return {
          transcript: rows.map((r) => ({
            userId: String(r.user_id ?? r.userId ?? ''),
            userName: String(r.user_name ?? r.speaker ?? r.userName ?? ''),
            text: String(r.text ?? ''),
            timestamp: Number(r.timestamp ?? 0),
            ...(r.attribute !== undefined ? { attribute: r.attribute } : {}),
            ...(typeof r.target_language === 'number' ? { targetLanguage: r.target_language } : {}),
            source,
          })),
        };
      }
      if (format === 'json') return { transcript: segments };
      const start = stored?.startedAt ?? segments[0]?.timestamp ?? 0;
      return sendCaptions(reply, format, format === 'vtt' ? toVtt(segments, start) : toSrt(segments, start));
    },
  );

  function sendCaptions(reply: FastifyReply, format: 'vtt' | 'srt', text: string): FastifyReply {
    return reply.type(format === 'vtt' ? 'text/vtt; charset=utf-8' : 'application/x-subrip; charset=utf-8').serializer((x: unknown) => x as string).send(text);
  }

  app.get<{ Params: { id: string } }>(
    '/api/streams/:id/chat',
    {
      schema: {
        params: idParams,
        response: {
          200: { type: 'object', properties: { chat: { type: 'array', items: chatRecord } } },
          404: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const chat = await store.chat(req.params.id);
      if (chat.length === 0 && !(await known(req.params.id))) return fail(reply, 404, 'NOT_FOUND', `no stream ${req.params.id}`);
      return { chat };
    },
  );

  app.get<{ Querystring: { q: string; stream?: string; limit: number } }>(
    '/api/search',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { q: { type: 'string', maxLength: 500 }, stream: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, ...tokenQuery },
        },
        response: { 200: { type: 'object', properties: { hits: { type: 'array', items: looseObject } } }, 400: errorSchema },
      },
    },
    async (req, reply) => {
      const q = (req.query.q ?? '').trim();
      if (!q) return fail(reply, 400, 'BAD_QUERY', 'give a search query: /api/search?q=words');
      return { hits: await store.search(q, { streamId: req.query.stream, limit: req.query.limit }) };
    },
  );

  const serveFiles = async (id: string, path: string, req: import('fastify').FastifyRequest, reply: FastifyReply) => {
    if (!opts.dataDir) return fail(reply, 404, 'NOT_FOUND', 'this server does not record');
    reply.hijack();
    await serveRecording(req.raw, reply.raw, opts.dataDir, id, path);
  };
  app.get<{ Params: { id: string } }>('/api/streams/:id/files', { schema: { params: idParams } }, (req, reply) => serveFiles(req.params.id, '', req, reply));
  app.get<{ Params: { id: string; '*': string } }>('/api/streams/:id/files/*', (req, reply) => serveFiles(req.params.id, req.params['*'] ?? '', req, reply));

  app.get<{ Params: { id: string; kind: ThumbnailKind | 'share' } }>(
    '/api/streams/:id/thumbnail/:kind',
    { schema: { params: { type: 'object', properties: { id: { type: 'string' }, kind: { type: 'string', enum: ['video', 'deskshare', 'share'] } }, required: ['id', 'kind'] } } },
    async (req, reply) => {
      const kind: ThumbnailKind = req.params.kind === 'share' ? 'deskshare' : req.params.kind;
      const t = opts.thumbnails?.get(req.params.id, kind);
      if (!t) return fail(reply, 404, 'NOT_FOUND', `no ${kind} thumbnail for stream ${req.params.id} (yet)`);
      return reply.type(t.contentType).header('cache-control', 'no-store').header('last-modified', new Date(t.timestamp).toUTCString()).send(t.data);
    },
  );

  // --- live feed -----------------------------------------------------------------------------
  const open = new Set<{ end(): void }>();
  app.addHook('onClose', async () => {
    for (const c of [...open]) c.end();
  });

  app.get<{ Params: { id: string } }>('/api/streams/:id/events', { schema: { params: idParams } }, async (req, reply) => {
    const id = req.params.id;
    const accept = req.headers.accept ?? '';
    if (accept.includes('application/json') && !accept.includes('text/event-stream')) {
      if (!(await known(id))) return fail(reply, 404, 'NOT_FOUND', `no stream ${id}`);
      return reply.send({ events: await store.events(id) });
    }
    if (!(await known(id))) return fail(reply, 404, 'NOT_FOUND', `no stream ${id}`);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const snap = bus.snapshot(id);
    res.write(`retry: 2000\n\n${snap ? `data: ${toJson(snap)}\n\n` : ''}`);
    const sub = bus.subscribe({
      streamId: id,
      maxQueue: opts.liveQueue ?? 2048,
      deliver(batch: LiveMessage[]) {
        let chunk = '';
        for (const m of batch) if (m.type !== 'stream' || m.streamId === id) chunk += `data: ${toJson(m)}\n\n`;
        if (chunk && !res.write(chunk)) {
          sub.pause();
          res.once('drain', () => sub.resume());
        }
      },
    });
    const ping = setInterval(() => res.write(': ping\n\n'), heartbeatMs);
    const conn = {
      end() {
        clearInterval(ping);
        sub.close();
        open.delete(conn);
        if (!res.writableEnded) res.end();
      },
    };
    open.add(conn);
    res.on('close', () => conn.end());
  });

  app.get<{ Querystring: { stream?: string } }>(
    '/api/live',
    { websocket: true, schema: { querystring: { type: 'object', properties: { stream: { type: 'string' }, ...tokenQuery } } } },
    (socket: WebSocket, req) => {
      new LiveSocket(socket, bus, req.query.stream || undefined, heartbeatMs, opts.liveQueue ?? 2048);
    },
  );
}

/** One WebSocket subscriber: sends bus messages as JSON text frames; pauses while the socket is backed up. */
class LiveSocket {
  #ws: WebSocket;
  #bus: LiveBus;
  #sub;
  #inFlight = 0;
  #ping: NodeJS.Timeout;
  static readonly HIGH = 512;
  static readonly LOW = 64;

  constructor(ws: WebSocket, bus: LiveBus, streamId: string | undefined, heartbeatMs: number, maxQueue: number) {
    this.#ws = ws;
    this.#bus = bus;
    this.#sub = bus.subscribe({ streamId, maxQueue, deliver: (batch) => this.#deliver(batch), onClose: () => ws.close(1013, 'live feed closed') });
    this.#send(JSON.stringify({ type: 'hello', streamId: streamId ?? '*', live: bus.liveStreams(), timestamp: Date.now() }));
    this.#snapshot(streamId);
    this.#ping = setInterval(() => ws.ping(), heartbeatMs);
    ws.on('message', (data, isBinary) => this.#command(isBinary ? '' : data.toString()));
    ws.on('close', () => {
      clearInterval(this.#ping);
      this.#sub.close();
    });
    ws.on('error', () => ws.terminate());
  }

  /** Client commands: `{"type":"subscribe","streamId":"ID"}` (or null for every stream). */
  #command(text: string): void {
    let cmd: { type?: unknown; streamId?: unknown };
    try {
      cmd = JSON.parse(text) as typeof cmd;
    } catch {
      return this.#send(JSON.stringify({ type: 'error', streamId: '*', code: 'BAD_JSON', message: 'send JSON like {"type":"subscribe","streamId":"ID"}' }));
    }
    if (cmd?.type === 'subscribe' && (typeof cmd.streamId === 'string' || cmd.streamId == null)) {
      const id = typeof cmd.streamId === 'string' && cmd.streamId ? cmd.streamId : undefined;
      this.#sub.setStream(id);
      this.#snapshot(id);
    } else if (cmd?.type === 'ping') this.#send(JSON.stringify({ type: 'pong', streamId: '*', timestamp: Date.now() }));
  }

  #snapshot(streamId: string | undefined): void {
    const snap = streamId ? this.#bus.snapshot(streamId) : undefined;
    if (snap) this.#send(toJson(snap));
  }

  #deliver(batch: LiveMessage[]): void {
    for (const m of batch) this.#send(toJson(m));
    if (this.#inFlight > LiveSocket.HIGH) this.#sub.pause();
  }

  #sent = (): void => {
    this.#inFlight--;
    if (this.#inFlight < LiveSocket.LOW && this.#sub.paused) this.#sub.resume();
  };

  #send(text: string): void {
    if (this.#ws.readyState !== 1) return;
    this.#inFlight++;
    this.#ws.send(text, this.#sent);
  }
}
