/**
 * Fastify plugin, behind the API token like every API route:
 *   GET /api/streams/:id/summary   the stream's LLM notes so far and final summary, model, tokens, cost
 */
import type { FastifyInstance } from 'fastify';
import { requireToken } from '../server/auth.js';
import type { Store } from '../store/types.js';

export interface SummaryRoutesOptions {
  store: Store;
  apiToken?: string;
}

export async function summaryRoutes(app: FastifyInstance, opts: SummaryRoutesOptions): Promise<void> {
  const onRequest = requireToken(opts.apiToken);
  app.get<{ Params: { id: string } }>(
    '/api/streams/:id/summary',
    { onRequest, schema: { params: { type: 'object', properties: { id: { type: 'string', minLength: 1 } }, required: ['id'] }, querystring: { type: 'object', properties: { token: { type: 'string' } } } } },
    async (req, reply) => {
      const r = await opts.store.summary(req.params.id);
      if (!r) {
        const known = await opts.store.getStream(req.params.id);
        const message = known
          ? `stream ${req.params.id} has no notes or summary (the config file's "intelligence" entry turns them on; notes come every notesEveryMinutes, the summary when the stream ends)`
          : `no stream ${req.params.id}`;
        return reply.code(404).send({ error: { code: 'NOT_FOUND', message } });
      }
      return {
        rtmsStreamId: r.rtmsStreamId,
        notes: r.notes,
        ...(r.notesUpdatedAt !== undefined ? { notesUpdatedAt: r.notesUpdatedAt } : {}),
        summary: r.summary ?? null,
        ...(r.summaryUpdatedAt !== undefined ? { summaryUpdatedAt: r.summaryUpdatedAt } : {}),
        final: r.summary !== undefined,
        provider: r.provider,
        model: r.model,
        tokens: { input: r.inputTokens, output: r.outputTokens },
        ...(r.costUsd !== undefined ? { costUsd: r.costUsd } : {}),
        updatedAt: r.updatedAt,
      };
    },
  );
}
