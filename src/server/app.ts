/**
 * The HTTP server of `serve` and `demo`. node:http handles the webhook (answered within the request,
 * before any stream work starts), /healthz and /readyz itself; everything else — the API, the live
 * feed, the dashboard and /metrics — goes to the fastify web app (src/server/web.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StreamRegistry } from '../sessions/registry.js';
import type { AlertWebhook, StreamEvent, WebhookHandler } from '../webhook/handler.js';

export interface AppOptions {
  webhookPath: string;
  webhook: WebhookHandler;
  registry: StreamRegistry;
  /** Largest webhook body accepted. Default 64 KiB. */
  maxBodyBytes?: number;
  logger?: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** Answers every request that is not the webhook, /healthz or /readyz (API, live feed, dashboard, /metrics). */
  web: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Cluster gateway: hands each verified event to the cluster queue instead of the registry. It is
   * awaited before Zoom gets its 200 (so an acknowledged webhook is never lost); when it fails the
   * answer is 503 and Zoom retries.
   */
  enqueue?: (event: StreamEvent) => Promise<unknown>;
  /** Told of each verified Zoom alert webhook (rtms.start_failed...), after it was answered. */
  onAlert?: (alert: AlertWebhook) => void;
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

/**
 * Reads the body up to `limit` bytes. Beyond it, reading stops buffering and resolves 'too-large'
 * at once; the socket is left alone so that the 413 can still be written (the caller closes the
 * connection after it, and node:http discards whatever the client is still sending).
 */
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
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        chunks.length = 0;
        req.resume();
        resolve('too-large');
      } else chunks.push(c);
    };
    req.on('data', onData);
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
      if (body === 'too-large') {
        // Answer at once and close the connection rather than read the rest of an oversized body.
        res.setHeader('connection', 'close');
        return fail(res, 413, 'WEBHOOK_TOO_LARGE', `body larger than ${limit} bytes`);
      }
      const outcome = opts.webhook(body, req.headers);
      if (outcome.event && opts.enqueue) {
        try {
          await opts.enqueue(outcome.event);
        } catch (err) {
          opts.logger?.warn({ err: (err as Error).message, streamId: outcome.event.rtmsStreamId }, 'webhook not queued; answered 503 so Zoom retries');
          fail(res, 503, 'QUEUE_UNAVAILABLE', 'the cluster queue is unavailable; retry later');
          opts.onWebhookAnswered?.(performance.now() - started, 503);
          return;
        }
      }
      json(res, outcome.status, outcome.body);
      opts.onWebhookAnswered?.(performance.now() - started, outcome.status);
      if (outcome.status >= 400) opts.logger?.warn({ status: outcome.status, error: outcome.body.error }, 'webhook rejected');
      if (outcome.alert && opts.onAlert) {
        const alert = outcome.alert;
        setImmediate(() => opts.onAlert!(alert));
      }
      if (outcome.event && !opts.enqueue) {
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

  // Slow clients (slow-loris): headers must be complete within 10 s and the whole request within
  // 15 s. node:http enforces both only when it sweeps its connections, every 30 s by default, which
  // let a socket trickling header bytes live 30-40 s; sweep every second instead.
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 15_000, connectionsCheckingInterval: 1000 }, (req, res) => {
    route(req, res).catch((err: Error) => {
      opts.logger?.warn({ err: err.message, url: req.url }, 'request failed');
      if (!res.headersSent) fail(res, 500, 'INTERNAL', 'the server could not answer; see its log');
      else res.end();
    });
  });

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
