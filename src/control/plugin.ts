/**
 * Fastify plugin: `POST /api/control` `{"product","id","action"}` starts, stops, pauses or resumes
 * a stream through Zoom's REST API (config `zoomApi`). Behind the API token like every API route.
 * 400 for bad input, 503 when no `zoomApi` is configured, Zoom's own 400/404 passed on, 502 for
 * other Zoom failures; each with a one-line message.
 */
import type { FastifyInstance } from 'fastify';
import { OpenRtmsError } from '../errors.js';
import { requireToken } from '../server/auth.js';
import { parseControlRequest, type StreamControl } from './service.js';
import { ZoomApiError } from './zoom-api.js';

export type { StreamControl } from './service.js';

export interface ControlRoutesOptions {
  control?: StreamControl;
  apiToken?: string;
}

export async function controlRoutes(app: FastifyInstance, opts: ControlRoutesOptions): Promise<void> {
  app.post('/api/control', { onRequest: requireToken(opts.apiToken) }, async (req, reply) => {
    const parsed = parseControlRequest(req.body);
    if (typeof parsed === 'string') return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: parsed } });
    if (!opts.control) return reply.code(503).send({ error: { code: 'CONFIG_MISSING', message: 'no zoomApi in the config file: stream control needs a Server-to-Server OAuth app (accountId, clientId, clientSecret)' } });
    try {
      await opts.control.control(parsed);
    } catch (err) {
      if (err instanceof ZoomApiError) {
        const status = err.status === 400 || err.status === 404 ? err.status : 502;
        return reply.code(status).send({ error: { code: err.code, message: err.message, zoomStatus: err.status, ...(err.details.zoomCode !== undefined ? { zoomCode: err.details.zoomCode } : {}) } });
      }
      if (err instanceof OpenRtmsError) return reply.code(400).send({ error: { code: err.code, message: err.message } });
      throw err;
    }
    return { ok: true, ...parsed };
  });
}
