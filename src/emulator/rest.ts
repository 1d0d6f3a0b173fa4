/**
 * The emulator's side of Zoom's REST API for stream control, on the emulator's own HTTP port:
 *   POST  /oauth/token?grant_type=account_credentials&account_id=…   (Basic client id:secret)
 *   PATCH /v2/live_meetings/{meetingUuid}/rtms_app/status             (meetings and webinars)
 *   PATCH /v2/videosdk/sessions/{sessionId}/rtms_app/status
 *   PATCH /v2/phone/calls/{callId}/rtms_app/status
 * with `{"action":"start|stop|pause|resume","settings":{"client_id":…}}`, behind `Authorization:
 * Bearer`. Answers like Zoom: 204 on success, JSON `{code, message}` errors (401 bad token, 404
 * unknown meeting, 400 bad action or state), OAuth errors as `{reason, error}`.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { safeEqual } from '../protocol/index.js';

export type RestAction = 'start' | 'stop' | 'pause' | 'resume';
/** Which endpoint was called: its id names a meeting/webinar, a Video SDK session or a phone call. */
export type RestTargetKind = 'meeting' | 'session' | 'call';

const ROUTES: [RegExp, RestTargetKind][] = [
  [/^\/v2\/live_meetings\/([^/]+)\/rtms_app\/status$/, 'meeting'],
  [/^\/v2\/videosdk\/sessions\/([^/]+)\/rtms_app\/status$/, 'session'],
  [/^\/v2\/phone\/calls\/([^/]+)\/rtms_app\/status$/, 'call'],
];

export interface RestControlOptions {
  clientId: string;
  clientSecret: string;
  /** Lifetime of issued tokens, seconds. Default 3599 (as Zoom). */
  tokenTtlS?: number;
  /** Is `id` a known meeting/session/call of this kind? (ids arrive decoded once or twice, see below) */
  knows(kind: RestTargetKind, id: string): boolean;
  /** Applies an action; a string is the reason it cannot be applied now (answered 400). */
  control(kind: RestTargetKind, id: string, action: RestAction): string | undefined;
  /** For tests and summaries. */
  counters?: { tokens: number; calls: number };
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(text) }).end(text);
}

function readJson(req: IncomingMessage, limit = 16 * 1024): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => {
      if (size > limit) return resolve(undefined);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        resolve(undefined);
      }
    });
    req.on('error', () => resolve(undefined));
  });
}

export class RestControl {
  readonly #tokens = new Map<string, number>();
  readonly counters: { tokens: number; calls: number };

  constructor(private readonly o: RestControlOptions) {
    this.counters = o.counters ?? { tokens: 0, calls: 0 };
  }

  /** Answers the request when it is one of the REST routes; false otherwise (the caller answers 404). */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (url.pathname === '/oauth/token') {
      if (req.method !== 'POST') send(res, 405, { reason: 'use POST', error: 'invalid_request' });
      else this.#token(req, res, url);
      return true;
    }
    // Matched on the raw path: an id encoded twice must still be one segment here.
    const raw = (req.url ?? '/').split('?')[0];
    for (const [re, kind] of ROUTES) {
      const m = re.exec(raw);
      if (!m) continue;
      if (req.method !== 'PATCH') send(res, 405, { code: 405, message: `use PATCH on ${url.pathname}` });
      else void this.#status(req, res, kind, m[1]);
      return true;
    }
    return false;
  }

  #token(req: IncomingMessage, res: ServerResponse, url: URL): void {
    req.resume();
    if (url.searchParams.get('grant_type') !== 'account_credentials') return send(res, 400, { reason: 'unsupported grant type', error: 'unsupported_grant_type' });
    if (!url.searchParams.get('account_id')) return send(res, 400, { reason: 'account_id is required', error: 'invalid_request' });
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : '';
    if (!safeEqual(given, `${this.o.clientId}:${this.o.clientSecret}`)) return send(res, 401, { reason: 'Invalid client_id or client_secret', error: 'invalid_client' });
    const token = randomBytes(24).toString('base64url');
    const ttl = this.o.tokenTtlS ?? 3599;
    this.#tokens.set(token, Date.now() + ttl * 1000);
    this.counters.tokens++;
    send(res, 200, { access_token: token, token_type: 'bearer', expires_in: ttl, scope: 'meeting:update:participant_rtms_app_status:admin videosdk:update:rtms_app_status:admin phone:write:rtms_session:admin' });
  }

  /** Revokes every token (tests: a 401 must make the client fetch a new one). */
  revokeTokens(): void {
    this.#tokens.clear();
  }

  #authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) return false;
    const expires = this.#tokens.get(header.slice(7).trim());
    return expires !== undefined && Date.now() < expires;
  }

  async #status(req: IncomingMessage, res: ServerResponse, kind: RestTargetKind, segment: string): Promise<void> {
    this.counters.calls++;
    if (!this.#authorized(req)) {
      req.resume();
      return send(res, 401, { code: 124, message: 'Invalid access token.' });
    }
    // Zoom wants UUIDs with "/" encoded twice; accept an id decoded once or twice.
    let id: string;
    try {
      id = decodeURIComponent(segment);
      if (!this.o.knows(kind, id) && /%[0-9A-Fa-f]{2}/.test(id)) id = decodeURIComponent(id);
    } catch {
      req.resume();
      return send(res, 400, { code: 300, message: 'The id is not validly URL-encoded.' });
    }
    const body = (await readJson(req)) as { action?: unknown; settings?: { client_id?: unknown } } | undefined;
    if (!this.o.knows(kind, id)) return send(res, 404, { code: 3001, message: `${kind === 'meeting' ? 'Meeting' : kind === 'session' ? 'Session' : 'Call'} does not exist: ${id}.` });
    const action = body?.action;
    if (action !== 'start' && action !== 'stop' && action !== 'pause' && action !== 'resume') return send(res, 400, { code: 300, message: 'Invalid action: expected start, stop, pause or resume.' });
    const clientId = body?.settings?.client_id;
    if (clientId !== undefined && clientId !== this.o.clientId) return send(res, 400, { code: 300, message: `The app with client_id ${String(clientId)} is not installed for this account.` });
    const refused = this.o.control(kind, id, action);
    if (refused) return send(res, 400, { code: 3000, message: refused });
    send(res, 204);
  }
}
