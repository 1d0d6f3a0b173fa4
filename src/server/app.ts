/**
 * The HTTP server of `serve` and `demo`. node:http handles the webhook (answered within the request,
 * before any stream work starts), /healthz and /readyz itself; everything else — the API, the live
 * feed, the dashboard and /metrics — goes to the fastify web app (src/server/web.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StreamRegistry } from '../sessions/registry.js';
import type { WebhookHandler } from '../webhook/handler.js';

export interface AppOptions {
  webhookPath: string;
  webhook: WebhookHandler;
  registry: StreamRegistry;
  /** Largest webhook body accepted. Default 64 KiB. */
  maxBodyBytes?: number;
  logger?: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** Answers every request that is not the webhook, /healthz or /readyz (API, live feed, dashboard, /metrics). */
  web: (req: IncomingMessage, res: ServerResponse) => void;
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
    // Everything else (API, live feed, dashboard, /metrics) belongs to the web app.
    return opts.web(req, res);
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
