/**
 * API token check shared by the API, live feed, dashboard and metrics plugins. The token may come as
 * `Authorization: Bearer <token>` (API clients), `?token=` (links, EventSource, WebSocket) or the
 * `openrtms_token` cookie (set by the dashboard page once it was opened with `?token=`).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const TOKEN_COOKIE = 'openrtms_token';

/** The token a request presents, from the header, the query string or the cookie ('' when none). */
export function presentedToken(req: FastifyRequest): string {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  if (typeof q === 'string' && q) return q;
  const cookie = req.headers.cookie;
  if (cookie) {
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) {
        try {
          return decodeURIComponent(part.slice(eq + 1).trim());
        } catch {
          return '';
        }
      }
    }
  }
  return '';
}

/** Constant-time comparison of a presented token with the configured one. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A fastify onRequest hook answering 401 JSON unless the request presents `token`. */
export function requireToken(token: string | undefined) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!token || tokenMatches(presentedToken(req), token)) return;
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="openrtms"')
      .send({ error: { code: 'UNAUTHORIZED', message: 'send Authorization: Bearer <OPENRTMS_API_TOKEN> (or ?token= in a browser)' } });
  };
}
