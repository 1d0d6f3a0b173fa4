/** Fastify plugin: `GET /api/alerts[?limit=N]` → `{"alerts":[…]}`, most recent first, behind the API token. */
import type { FastifyInstance } from 'fastify';
import { requireToken } from '../server/auth.js';
import type { AlertLog } from './log.js';

export interface AlertRoutesOptions {
  alerts: AlertLog;
  apiToken?: string;
}

export async function alertRoutes(app: FastifyInstance, opts: AlertRoutesOptions): Promise<void> {
  app.get<{ Querystring: { limit?: number } }>(
    '/api/alerts',
    {
      onRequest: requireToken(opts.apiToken),
      schema: { querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 }, token: { type: 'string' } } } },
    },
    async (req) => ({ alerts: opts.alerts.list(req.query.limit) }),
  );
}
