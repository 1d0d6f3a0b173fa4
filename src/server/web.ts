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
  /** Serve the dashboard at `/`. Default true. */
  dashboard?: boolean;
  /** Attach to this server instead of creating one (then route requests with `handle`). */
  server?: Server;
  logger?: boolean;
}

export interface WebApp {
  app: FastifyInstance;
  /** Answers one request of the attached server (after `ready`). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  ready: Promise<void>;
  close(): Promise<void>;
}

export function createWebApp(o: WebAppOptions): WebApp {
  const app = Fastify({
    logger: o.logger ?? false,
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
    void reply.code(status).send({ error: { code, message: status === 500 ? 'the server could not answer; see its log' : err.message } });
  });
  app.setNotFoundHandler((req, reply) => void reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } }));
  void app.register(apiRoutes, { store: o.store, bus: o.bus, registry: o.registry, dataDir: o.dataDir, apiToken: o.apiToken, thumbnails: o.thumbnails, media: o.media });
  if (o.alerts) void app.register(alertRoutes, { alerts: o.alerts, apiToken: o.apiToken });
  void app.register(controlRoutes, { control: o.control, apiToken: o.apiToken });
  if (o.delivery) void app.register(deliveryRoutes, { hub: o.delivery, apiToken: o.apiToken });
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
