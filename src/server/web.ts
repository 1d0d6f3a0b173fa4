/**
 * The web side of the server as one fastify app: the JSON API and live feed (`apiRoutes`), the
 * dashboard (`dashboardRoutes`) and `/metrics` (`metricsRoutes`), with JSON errors everywhere.
 *
 * It can listen by itself (`app.listen`) or serve requests of an existing node:http server: pass
 * `server` and call `handle(req, res)` for the requests the server does not answer itself; WebSocket
 * upgrades to `/api/live` are picked up from that server's `upgrade` event.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';
import { dashboardRoutes } from '../dashboard/plugin.js';
import type { LiveBus } from '../live/bus.js';
import type { ThumbnailStore } from '../live/thumbnails.js';
import type { LiveMediaHub } from '../live/media.js';
import type { OpenRtmsMetrics } from '../metrics/metrics.js';
import { metricsRoutes } from '../metrics/plugin.js';
import { StoreError } from '../errors.js';
import type { Store } from '../store/types.js';
import { apiRoutes, type LiveStreams } from './api.js';
import { alertRoutes } from '../alerts/plugin.js';
import type { AlertLog } from '../alerts/log.js';
import { controlRoutes, type StreamControl } from '../control/plugin.js';
import { deliveryRoutes } from '../delivery/plugin.js';
import type { DeliveryHub } from '../delivery/hub.js';
import { BAD_TOKEN_LIMITER, BadTokenLimiter, refuseCrossSite } from './auth.js';
import { hasSecrets, redactText } from '../util/secrets.js';
import { summaryRoutes } from '../intelligence/routes.js';
import { mcpRoutes } from '../intelligence/mcp.js';
import type { Intelligence } from '../intelligence/service.js';
import { deletionRoutes } from '../deletion/plugin.js';
import type { StreamDeleter } from '../deletion/deleter.js';

export interface WebAppOptions {
  store: Store;
  bus: LiveBus;
  registry?: LiveStreams;
  metrics?: OpenRtmsMetrics;
  thumbnails?: ThumbnailStore;
  /** Serves the live player's media socket, /api/live/media. */
  media?: LiveMediaHub;
  dataDir?: string;
  apiToken?: string;
  /** Serves GET /api/alerts. */
  alerts?: AlertLog;
  /** Serves POST /api/control (503 without it). */
  control?: StreamControl;
  /** Serves /api/delivery (destinations, dead letters, replay). */
  delivery?: DeliveryHub;
  /** The speech-to-text tracks being made for a live stream (GET /api/streams/:id `transcriptSources`). */
  transcriptSources?(rtmsStreamId: string): string[];
  /** The configured LLM (MCP `ask`); GET /api/streams/:id/summary and /mcp are served without it too. */
  intelligence?: Intelligence;
  /** Serves DELETE /api/streams/:id (absent: no deletion over HTTP). */
  deleter?: StreamDeleter;
  /** Serve the dashboard at `/`. Default true. */
  dashboard?: boolean;
  /** Attach to this server instead of creating one (then route requests with `handle`). */
  server?: Server;
  logger?: boolean;
  /**
   * Trust X-Forwarded-Proto/-For/-Host from a reverse proxy (TLS terminated in front): the token cookie
   * is then Secure when the proxy says https, and the client address is the proxy's X-Forwarded-For.
   * Default: env OPENRTMS_TRUST_PROXY (1/true/yes/on), else off.
   */
  trustProxy?: boolean;
  /** Wrong-token slowdown (default: after 10 wrong tokens within a minute, one address gets 429 for the rest of it). */
  badTokens?: { max?: number; windowMs?: number };
}

/** OPENRTMS_TRUST_PROXY=1: the server runs behind a reverse proxy that terminates TLS. */
export function trustProxyFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes|on)$/i.test(env.OPENRTMS_TRUST_PROXY?.trim() ?? '');
}

/**
 * The dashboard's Content-Security-Policy: its own scripts and styles only (no inline ones, no
 * eval), never framed; media and images may come from blob:/data: URLs the page makes itself.
 */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  mediaSrc: ["'self'", 'blob:'],
  connectSrc: ["'self'"],
  workerSrc: ["'self'", 'blob:'],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

export interface WebApp {
  app: FastifyInstance;
  /** Answers one request of the attached server (after `ready`). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  ready: Promise<void>;
  close(): Promise<void>;
}

export function createWebApp(o: WebAppOptions): WebApp {
  const trustProxy = o.trustProxy ?? trustProxyFromEnv();
  const app = Fastify({
    logger: o.logger ?? false,
    trustProxy,
    ...(o.server ? { serverFactory: () => o.server! } : {}),
    forceCloseConnections: true,
    routerOptions: { maxParamLength: 500 },
  });
  app.setErrorHandler((err: { statusCode?: number; validation?: unknown; code?: string; message: string }, _req, reply) => {
    // The database is down or unreachable: say so (503, retry later) rather than a bare 500.
    if (err instanceof StoreError && err.code === 'STORE_UNAVAILABLE') {
      void reply.code(503).header('retry-after', '5').send({ error: { code: err.code, message: 'the database is unavailable; retry in a few seconds' } });
      return;
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    const code = err.validation ? 'BAD_REQUEST' : status === 500 ? 'INTERNAL' : (err.code ?? 'BAD_REQUEST');
    void reply.code(status).send({ error: { code, message: status === 500 ? 'the server could not answer; see its log' : redactText(err.message) } });
  });
  // Security headers on every answer (the dashboard's CSP, nosniff, no framing); HSTS only behind TLS.
  void app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    hsts: trustProxy ? { maxAge: 15_552_000 } : false,
    xFrameOptions: { action: 'deny' },
  });
  // One wrong-token limiter for every plugin's token check (see requireToken).
  app.decorate(BAD_TOKEN_LIMITER, new BadTokenLimiter(o.badTokens));
  // State changes from another site are refused before any route runs (CSRF).
  app.addHook('onRequest', refuseCrossSite);
  // No secret of the config or the environment leaves in an answer, whatever produced it.
  app.addHook('onSend', async (_req, _reply, payload) => (typeof payload === 'string' && hasSecrets() ? redactText(payload) : payload));
  app.setNotFoundHandler((req, reply) => void reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } }));
  void app.register(apiRoutes, { store: o.store, bus: o.bus, registry: o.registry, dataDir: o.dataDir, apiToken: o.apiToken, thumbnails: o.thumbnails, media: o.media, ...(o.transcriptSources ? { transcriptSources: o.transcriptSources } : {}) });
  if (o.alerts) void app.register(alertRoutes, { alerts: o.alerts, apiToken: o.apiToken });
  void app.register(controlRoutes, { control: o.control, apiToken: o.apiToken });
  if (o.delivery) void app.register(deliveryRoutes, { hub: o.delivery, apiToken: o.apiToken });
  void app.register(summaryRoutes, { store: o.store, apiToken: o.apiToken });
  void app.register(mcpRoutes, { store: o.store, intelligence: o.intelligence, apiToken: o.apiToken });
  if (o.deleter) void app.register(deletionRoutes, { deleter: o.deleter, apiToken: o.apiToken });
  if (o.metrics) void app.register(metricsRoutes, { metrics: o.metrics });
  if (o.dashboard !== false) void app.register(dashboardRoutes, { apiToken: o.apiToken });
  const ready: Promise<void> = Promise.resolve(app.ready()).then(() => undefined);
  return {
    app,
    ready,
    handle(req, res) {
      ready.then(
        () => app.routing(req, res),
        () => res.writeHead(500).end(),
      );
    },
    close: () => app.close(),
  };
}
