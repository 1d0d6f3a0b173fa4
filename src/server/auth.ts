/**
 * API token check shared by the API, live feed, dashboard and metrics plugins. The token may come as
 * `Authorization: Bearer <token>` (API clients), `?token=` (links, EventSource, WebSocket) or the
 * `openrtms_token` cookie (set by the dashboard page once it was opened with `?token=`).
 * Also here: the limiter that slows down token guessing and the cross-site refusal of state changes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
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

/**
 * Constant-time comparison of a presented token with the configured one. Both are hashed first, so
 * the comparison takes the same time whatever the length or the first differing byte.
 */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Slows down token guessing: an address that presented `max` wrong tokens within
 * `windowMs` is answered 429 (with Retry-After) until the window ends, whatever it presents — so a
 * guess that happens to be right teaches nothing while blocked. Only wrong non-empty tokens count:
 * opening the dashboard without one just shows the login form. Bounded: at most `maxAddresses`
 * addresses are tracked (the oldest window is dropped first).
 */
export class BadTokenLimiter {
  readonly max: number;
  readonly windowMs: number;
  readonly maxAddresses: number;
  #now: () => number;
  #seen = new Map<string, { since: number; count: number }>();

  constructor(o: { max?: number; windowMs?: number; maxAddresses?: number; now?: () => number } = {}) {
    this.max = o.max ?? 10;
    this.windowMs = o.windowMs ?? 60_000;
    this.maxAddresses = o.maxAddresses ?? 10_000;
    this.#now = o.now ?? Date.now;
  }

  /** Milliseconds `ip` must still wait (0: not blocked). */
  blockedFor(ip: string): number {
    const e = this.#seen.get(ip);
    if (!e) return 0;
    const left = e.since + this.windowMs - this.#now();
    if (left <= 0) {
      this.#seen.delete(ip);
      return 0;
    }
    return e.count >= this.max ? left : 0;
  }

  /** Counts one wrong token from `ip`. */
  fail(ip: string): void {
    const now = this.#now();
    let e = this.#seen.get(ip);
    if (!e || e.since + this.windowMs <= now) {
      this.#seen.delete(ip);
      if (this.#seen.size >= this.maxAddresses) this.#seen.delete(this.#seen.keys().next().value!);
      this.#seen.set(ip, (e = { since: now, count: 0 }));
    }
    e.count++;
  }
}

/** Where a web app keeps its limiter, so every plugin's token check shares it (see createWebApp). */
export const BAD_TOKEN_LIMITER = 'openrtmsBadTokens';

function limiterOf(req: FastifyRequest, own: BadTokenLimiter): BadTokenLimiter {
  return ((req.server as unknown as Record<string, unknown>)[BAD_TOKEN_LIMITER] as BadTokenLimiter | undefined) ?? own;
}

export type TokenCheck = { ok: true } | { ok: false; status: 401 } | { ok: false; status: 429; retryAfterMs: number };

/** Checks the token a request presents; counts wrong ones and refuses blocked addresses. */
export function checkToken(req: FastifyRequest, token: string | undefined, own: BadTokenLimiter): TokenCheck {
  if (!token) return { ok: true };
  const limiter = limiterOf(req, own);
  const wait = limiter.blockedFor(req.ip);
  if (wait > 0) return { ok: false, status: 429, retryAfterMs: wait };
  const given = presentedToken(req);
  if (tokenMatches(given, token)) return { ok: true };
  if (given) limiter.fail(req.ip);
  return { ok: false, status: 401 };
}

/** Answers a refused token check: 429 with Retry-After, or 401. */
export function refuse(reply: FastifyReply, check: Exclude<TokenCheck, { ok: true }>): FastifyReply {
  if (check.status === 429) {
    const seconds = Math.max(1, Math.ceil(check.retryAfterMs / 1000));
    return reply
      .code(429)
      .header('retry-after', String(seconds))
      .send({ error: { code: 'TOO_MANY_BAD_TOKENS', message: `too many wrong API tokens from this address; retry in ${seconds} s` } });
  }
  return reply
    .code(401)
    .header('www-authenticate', 'Bearer realm="openrtms"')
    .send({ error: { code: 'UNAUTHORIZED', message: 'send Authorization: Bearer <OPENRTMS_API_TOKEN> (or ?token= in a browser)' } });
}

/** A fastify onRequest hook answering 401 JSON unless the request presents `token` (429 after repeated wrong ones). */
export function requireToken(token: string | undefined) {
  const own = new BadTokenLimiter();
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const check = checkToken(req, token, own);
    if (!check.ok) await refuse(reply, check);
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Why a state-changing request (POST, PUT, PATCH, DELETE) or a WebSocket handshake must be refused as cross-site, or
 * undefined. A browser says where a request comes from (`Sec-Fetch-Site`, `Origin`); one from
 * another site — a page riding on the dashboard's cookie, or on a token-less server bound to
 * loopback — is refused. A request with `Authorization: Bearer` passes: a browser cannot send that
 * header cross-site without a CORS preflight, which this server never grants. So do requests that
 * carry neither header (curl, SDKs, other servers).
 */
export function crossSiteReason(req: FastifyRequest): string | undefined {
  // A WebSocket handshake is a GET, but no CORS keeps another site from reading what it receives:
  // the live feed (transcripts as they are spoken) is guarded like a state change.
  const websocket = req.headers.upgrade?.toLowerCase() === 'websocket';
  if (SAFE_METHODS.has(req.method) && !websocket) return undefined;
  if (req.headers.authorization?.startsWith('Bearer ')) return undefined;
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site: ${site}`;
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  // Compared as URLs, so a default port written or not (`http://h:80` and `http://h`) is the same.
  const hostOf = (url: string) => {
    try {
      return new URL(url).host;
    } catch {
      return undefined;
    }
  };
  const from = origin === 'null' ? undefined : hostOf(origin);
  return from !== undefined && from === hostOf(`${req.protocol}://${req.host}`) ? undefined : `Origin ${origin}`;
}

/** A fastify onRequest hook answering 403 to cross-site state-changing requests. */
export async function refuseCrossSite(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const why = crossSiteReason(req);
  if (!why) return;
  await reply.code(403).send({
    error: {
      code: 'CROSS_SITE_REFUSED',
      message: `cross-site ${req.method} ${req.url.split('?')[0]} refused (${why}): send it from this server's own pages, or with Authorization: Bearer <OPENRTMS_API_TOKEN>`,
    },
  });
}
