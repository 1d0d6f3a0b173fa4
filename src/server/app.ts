/**
 * The HTTP server of `serve` and `demo`: the webhook endpoint, health and readiness, the JSON API
 * over the store and the registry, and the dashboard page. node:http with explicit routing: the
 * webhook path answers within the request, before any stream work starts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { StreamRegistry } from '../sessions/registry.js';
import type { Store } from '../store/types.js';
import type { WebhookHandler } from '../webhook/handler.js';
import { DASHBOARD_HTML } from './dashboard.js';
import { serveRecording } from './files.js';
import { toSrt, toVtt } from '../recorder/captions.js';

export interface AppOptions {
  webhookPath: string;
  webhook: WebhookHandler;
  registry: StreamRegistry;
  store?: Store;
  /** Recordings live in `<dataDir>/recordings/<stream>/`, served under /api/streams/:id/files/. */
  dataDir?: string;
  /** When set, /api and the dashboard need `Authorization: Bearer <token>` (or `?token=`). */
  apiToken?: string;
  /** Largest webhook body accepted. Default 64 KiB. */
  maxBodyBytes?: number;
  logger?: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** Observes each webhook answer time (ms), for metrics and benchmarks. */
  onWebhookAnswered?: (ms: number, status: number) => void;
}

export interface App {
  server: Server;
  listen(port: number, host: string): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const fail = (res: ServerResponse, status: number, code: string, message: string) => json(res, status, { error: { code, message } });

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      resolve('too-large');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.destroy();
        resolve('too-large');
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function createApp(opts: AppOptions): App {
  const limit = opts.maxBodyBytes ?? 64 * 1024;
  const token = opts.apiToken ? Buffer.from(opts.apiToken) : undefined;

  const authorized = (req: IncomingMessage, url: URL): boolean => {
    if (!token) return true;
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : (url.searchParams.get('token') ?? '');
    const g = Buffer.from(given);
    return g.length === token.length && timingSafeEqual(g, token);
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const path = url.pathname;
    if (path === opts.webhookPath) {
      if (req.method !== 'POST') return fail(res, 405, 'METHOD_NOT_ALLOWED', `POST your webhooks to ${opts.webhookPath}`);
      const started = performance.now();
      const body = await readBody(req, limit);
      if (body === 'too-large') return fail(res, 413, 'WEBHOOK_TOO_LARGE', `body larger than ${limit} bytes`);
      const outcome = opts.webhook(body, req.headers);
      json(res, outcome.status, outcome.body);
      opts.onWebhookAnswered?.(performance.now() - started, outcome.status);
      if (outcome.status >= 400) opts.logger?.warn({ status: outcome.status, error: outcome.body.error }, 'webhook rejected');
      if (outcome.event) {
        const event = outcome.event;
        // After the answer has been written: Zoom must never wait for our work.
        setImmediate(() => {
          try {
            opts.registry.handle(event);
          } catch (err) {
            opts.logger?.warn({ err: (err as Error).message }, 'webhook event not handled');
          }
        });
      }
      return;
    }
    if (path === '/healthz') return json(res, 200, { ok: true });
    if (path === '/readyz') return opts.registry.state === 'running' ? json(res, 200, { ready: true }) : json(res, 503, { ready: false, state: opts.registry.state });
    if (req.method !== 'GET') return fail(res, 405, 'METHOD_NOT_ALLOWED', 'the API is read-only');
    if (!authorized(req, url)) return fail(res, 401, 'UNAUTHORIZED', 'send Authorization: Bearer <OPENRTMS_API_TOKEN>');
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(DASHBOARD_HTML);
      return;
    }
    if (path === '/api/streams') {
      const live = new Map(opts.registry.list().map((s) => [s.rtmsStreamId, s]));
      const stored = opts.store ? await opts.store.listStreams({ limit: 200 }) : [];
      const rows = stored.map((s) => ({ ...s, live: live.get(s.rtmsStreamId) ?? null }));
      for (const [id, s] of live) if (!stored.some((r) => r.rtmsStreamId === id)) rows.unshift({ rtmsStreamId: id, meetingUuid: s.meetingUuid, product: s.product, startedAt: s.startedAt, live: s } as never);
      return json(res, 200, { streams: rows });
    }
    if (path === '/api/search') {
      const q = url.searchParams.get('q') ?? '';
      if (!q.trim()) return fail(res, 400, 'BAD_QUERY', 'give a search query: /api/search?q=words');
      if (!opts.store) return json(res, 200, { hits: [] });
      return json(res, 200, { hits: await opts.store.search(q, { streamId: url.searchParams.get('stream') ?? undefined, limit: 50 }) });
    }
    const file = /^\/api\/streams\/([^/]+)\/files(?:\/(.*))?$/.exec(path);
    if (file) {
      if (!opts.dataDir) return fail(res, 404, 'NOT_FOUND', 'this server does not record');
      return serveRecording(req, res, opts.dataDir, decodeURIComponent(file[1]), file[2] ? decodeURIComponent(file[2]) : '');
    }
    const m = /^\/api\/streams\/([^/]+)(?:\/(transcript|chat|events))?$/.exec(path);
    if (m) {
      const id = decodeURIComponent(m[1]);
      const live = opts.registry.list().find((s) => s.rtmsStreamId === id);
      const stored = await opts.store?.getStream(id);
      if (!live && !stored) return fail(res, 404, 'NOT_FOUND', `no stream ${id}`);
      if (!m[2]) return json(res, 200, { ...(stored ?? {}), rtmsStreamId: id, live: live ?? null });
      if (!opts.store) return json(res, 200, { [m[2]]: [] });
      if (m[2] === 'chat') return json(res, 200, { chat: await opts.store.chat(id) });
      if (m[2] === 'events') return json(res, 200, { events: await opts.store.events(id) });
      const segments = await opts.store.transcript(id);
      const format = url.searchParams.get('format') ?? 'json';
      const start = stored?.startedAt ?? segments[0]?.timestamp ?? 0;
      if (format === 'vtt') {
        res.writeHead(200, { 'content-type': 'text/vtt; charset=utf-8' });
        return void res.end(toVtt(segments, start));
      }
      if (format === 'srt') {
        res.writeHead(200, { 'content-type': 'application/x-subrip; charset=utf-8' });
        return void res.end(toSrt(segments, start));
      }
      if (format !== 'json') return fail(res, 400, 'BAD_FORMAT', 'format must be json, vtt or srt');
      return json(res, 200, { transcript: segments });
    }
    return fail(res, 404, 'NOT_FOUND', `no route ${path}`);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: Error) => {
      opts.logger?.warn({ err: err.message, url: req.url }, 'request failed');
      if (!res.headersSent) fail(res, 500, 'INTERNAL', 'the server could not answer; see its log');
      else res.end();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;

  return {
    server,
    async listen(port, host) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const actual = (server.address() as AddressInfo).port;
      return { port: actual, url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}` };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
