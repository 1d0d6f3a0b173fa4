/**
 * Fastify plugin: `DELETE /api/streams/:id[?dryRun=true]` deletes a stream everywhere (see
 * StreamDeleter) behind the API token. 200 with what was removed; 404 when nothing of it exists;
 * 409 while it is live (stop it first); 502 when a part could not be removed (run it again).
 */
import type { FastifyInstance } from 'fastify';
import { DeletionError } from '../errors.js';
import { presentedToken, requireToken } from '../server/auth.js';
import { tokenId, type StreamDeleter } from './deleter.js';

export interface DeletionRoutesOptions {
  deleter: StreamDeleter;
  apiToken?: string;
}

const STATUS: Record<string, number> = { STREAM_LIVE: 409, STREAM_NOT_FOUND: 404, DELETION_INCOMPLETE: 502 };

export async function deletionRoutes(app: FastifyInstance, opts: DeletionRoutesOptions): Promise<void> {
  app.delete<{ Params: { id: string }; Querystring: { dryRun?: boolean } }>(
    '/api/streams/:id',
    {
      onRequest: requireToken(opts.apiToken),
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', minLength: 1 } }, required: ['id'] },
        querystring: { type: 'object', properties: { dryRun: { type: 'boolean', default: false }, token: { type: 'string' } } },
      },
    },
    async (req, reply) => {
      const presented = presentedToken(req);
      const actor = { kind: 'api' as const, ...(opts.apiToken && presented ? { tokenId: tokenId(presented) } : {}), ip: req.ip };
      try {
        return await opts.deleter.delete(req.params.id, actor, { dryRun: req.query.dryRun });
      } catch (err) {
        if (!(err instanceof DeletionError)) throw err;
        return reply.code(STATUS[err.code] ?? 500).send({ error: { code: err.code, message: err.message }, ...(err.details.report ? { report: err.details.report } : {}) });
      }
    },
  );
}
