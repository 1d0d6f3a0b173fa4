/**
 * Fastify plugin, behind the API token like every API route:
 *   GET  /api/delivery                          destinations: name, type, target (no secrets), figures
 *   GET  /api/delivery/dead-letters[?destination=]
 *   POST /api/delivery/dead-letters/replay      {"destination"?, "ids"?} → {"replayed":{name:n}}
 */
import type { FastifyInstance } from 'fastify';
import { requireToken } from '../server/auth.js';
import type { DeliveryHub } from './hub.js';

export interface DeliveryRoutesOptions {
  hub: DeliveryHub;
  apiToken?: string;
}

export async function deliveryRoutes(app: FastifyInstance, opts: DeliveryRoutesOptions): Promise<void> {
  const { hub } = opts;
  const onRequest = requireToken(opts.apiToken);
  const unknown = (name: string) => ({ error: { code: 'NOT_FOUND', message: `no destination named "${name}" (GET /api/delivery lists them)` } });

  app.get('/api/delivery', { onRequest }, async () => ({ destinations: hub.list() }));

  app.get<{ Querystring: { destination?: string; limit?: number } }>(
    '/api/delivery/dead-letters',
    { onRequest, schema: { querystring: { type: 'object', properties: { destination: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 1000 }, token: { type: 'string' } } } } },
    async (req, reply) => {
      const { destination, limit } = req.query;
      if (destination !== undefined && !hub.has(destination)) return reply.code(404).send(unknown(destination));
      return { deadLetters: hub.deadLetters(destination, limit) };
    },
  );

  app.post<{ Body: { destination?: string; ids?: string[] } | undefined }>(
    '/api/delivery/dead-letters/replay',
    {
      onRequest,
      schema: {
        body: { type: ['object', 'null'], additionalProperties: false, properties: { destination: { type: 'string', minLength: 1 }, ids: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 10000 } } },
      },
    },
    async (req, reply) => {
      const destination = req.body?.destination;
      if (destination !== undefined && !hub.has(destination)) return reply.code(404).send(unknown(destination));
      return { replayed: hub.replay(destination, req.body?.ids) };
    },
  );
}
