/** Fastify plugin: `GET /metrics` in Prometheus text format. Open unless a token is given. */
import type { FastifyInstance } from 'fastify';
import { requireToken } from '../server/auth.js';
import type { OpenRtmsMetrics } from './metrics.js';

export interface MetricsRoutesOptions {
  metrics: OpenRtmsMetrics;
  /** When set, scrapes need `Authorization: Bearer <token>`. */
  token?: string;
}

export async function metricsRoutes(app: FastifyInstance, opts: MetricsRoutesOptions): Promise<void> {
  app.get('/metrics', { onRequest: requireToken(opts.token) }, async (_req, reply) => {
    reply.header('content-type', opts.metrics.contentType).header('cache-control', 'no-store');
    return opts.metrics.text();
  });
}
