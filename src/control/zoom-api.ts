/**
 * Zoom's REST API for on-demand stream control: a Server-to-Server OAuth token (account
 * credentials grant, cached until shortly before it expires; a 401 refreshes it once and retries)
 * and `PATCH …/rtms_app/status` with `{"action":"start|stop|pause|resume","settings":{"client_id":…}}`.
 * Uses Node's built-in fetch. Errors are one line with Zoom's status, code and message, never a secret.
 */
import { OpenRtmsError } from '../errors.js';

export type ControlAction = 'start' | 'stop' | 'pause' | 'resume';
export const CONTROL_ACTIONS: readonly ControlAction[] = ['start', 'stop', 'pause', 'resume'];
/** Products whose streams Zoom's REST API controls (Contact Center has its own PUT endpoint, not done yet). */
export const CONTROL_PRODUCTS = ['meeting', 'webinar', 'session', 'phone'] as const;
export type ControlProduct = (typeof CONTROL_PRODUCTS)[number];

export interface ZoomApiOptions {
  accountId: string;
  clientId: string;
  clientSecret: string;
  /** Default https://api.zoom.us */
  baseUrl?: string;
  /** Default https://zoom.us/oauth/token */
  oauthUrl?: string;
  /** Refresh this long before the token expires. Default 60 s (at most a tenth of its lifetime). */
  refreshMarginMs?: number;
  /** For tests: a clock (ms). */
  now?: () => number;
  /** Per-request timeout. Default 15 s. */
  timeoutMs?: number;
}

/** A failed REST or OAuth call: `status` is the HTTP status (0 when unreachable), `zoomCode` Zoom's own code. */
export class ZoomApiError extends OpenRtmsError {
  get status(): number {
    return Number(this.details.status ?? 0);
  }
}

/**
 * A meeting/session/call id as a path segment. Zoom requires UUIDs that contain `/` (and, in
 * practice, `+`) to be URL-encoded twice, so that its gateway's first decoding leaves them intact.
 */
export function encodeZoomId(id: string): string {
  return /[/+]/.test(id) ? encodeURIComponent(encodeURIComponent(id)) : encodeURIComponent(id);
}

/** The REST path that controls a product's stream. */
export function controlPath(product: ControlProduct, id: string): string {
  const seg = encodeZoomId(id);
  switch (product) {
    case 'meeting':
    case 'webinar':
      return `/v2/live_meetings/${seg}/rtms_app/status`;
    case 'session':
      return `/v2/videosdk/sessions/${seg}/rtms_app/status`;
    case 'phone':
      return `/v2/phone/calls/${seg}/rtms_app/status`;
  }
}

/** Zoom's error text from a response body (`{code, message}` or OAuth's `{error, reason}`), one line, bounded. */
function zoomError(text: string): { code?: string | number; message: string } {
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    const code = (j.code ?? j.error) as string | number | undefined;
    const message = String(j.message ?? j.reason ?? j.error_description ?? '');
    return { ...(code !== undefined ? { code } : {}), message: message.replace(/\s+/g, ' ').slice(0, 300) };
  } catch {
    return { message: text.replace(/\s+/g, ' ').slice(0, 200) };
  }
}

export class ZoomApi {
  readonly baseUrl: string;
  readonly oauthUrl: string;
  #token?: { value: string; refreshAt: number };
  #pending?: Promise<string>;
  /** Token requests made (for tests and metrics). */
  tokenRequests = 0;

  constructor(private readonly o: ZoomApiOptions) {
    for (const k of ['accountId', 'clientId', 'clientSecret'] as const) {
      if (!o[k]) throw new OpenRtmsError('CONFIG_MISSING', `zoomApi.${k} is needed to call Zoom's REST API`);
    }
    this.baseUrl = (o.baseUrl ?? 'https://api.zoom.us').replace(/\/+$/, '');
    this.oauthUrl = o.oauthUrl ?? 'https://zoom.us/oauth/token';
  }

  #now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** A valid access token: the cached one, or a new one (concurrent callers share one request). */
  token(): Promise<string> {
    if (this.#token && this.#now() < this.#token.refreshAt) return Promise.resolve(this.#token.value);
    this.#pending ??= this.#fetchToken().finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  /** Forgets the cached token (after a 401). */
  invalidate(): void {
    this.#token = undefined;
  }

  async #fetchToken(): Promise<string> {
    const url = new URL(this.oauthUrl);
    url.searchParams.set('grant_type', 'account_credentials');
    url.searchParams.set('account_id', this.o.accountId);
    this.tokenRequests++;
    const basic = Buffer.from(`${this.o.clientId}:${this.o.clientSecret}`).toString('base64');
    const res = await this.#fetch(url, { method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' } }, 'POST oauth/token');
    const text = await res.text();
    if (!res.ok) {
      const e = zoomError(text);
      throw new ZoomApiError('ZOOM_API_AUTH_FAILED', `Zoom OAuth token request failed: ${res.status}${e.code !== undefined ? ` ${e.code}` : ''}${e.message ? `: ${e.message}` : ''} (check zoomApi.accountId, clientId and clientSecret of your Server-to-Server OAuth app)`, { status: res.status, zoomCode: e.code });
    }
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new ZoomApiError('ZOOM_API_AUTH_FAILED', 'Zoom OAuth token answer is not JSON', { status: res.status });
    }
    if (typeof body.access_token !== 'string' || !body.access_token) throw new ZoomApiError('ZOOM_API_AUTH_FAILED', 'Zoom OAuth token answer has no access_token', { status: res.status });
    const lifetimeMs = (typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600) * 1000;
    const margin = Math.min(this.o.refreshMarginMs ?? 60_000, lifetimeMs / 10);
    this.#token = { value: body.access_token, refreshAt: this.#now() + lifetimeMs - margin };
    return body.access_token;
  }

  async #fetch(url: URL | string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(this.o.timeoutMs ?? 15_000) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new ZoomApiError('ZOOM_API_UNREACHABLE', `Zoom API ${what}: cannot reach ${new URL(url).origin} (${cause})`, { status: 0 });
    }
  }

  /** An authorized request; a 401 (token revoked or expired early) refreshes the token once and retries. */
  async request(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
    const send = async () => {
      const token = await this.token();
      const res = await this.#fetch(`${this.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }, `${method} ${path}`);
      return { status: res.status, text: await res.text() };
    };
    let r = await send();
    if (r.status === 401) {
      this.invalidate();
      r = await send();
    }
    if (r.status >= 400) {
      const e = zoomError(r.text);
      throw new ZoomApiError(r.status === 401 ? 'ZOOM_API_AUTH_FAILED' : 'ZOOM_API_ERROR', `Zoom API ${method} ${path}: ${r.status}${e.code !== undefined ? ` code ${e.code}` : ''}${e.message ? `: ${e.message}` : ''}`, { status: r.status, zoomCode: e.code });
    }
    return r;
  }

  /** Starts, stops, pauses or resumes the RTMS app `clientId` in a meeting/webinar, Video SDK session or phone call. */
  async controlStream(product: ControlProduct, id: string, action: ControlAction, clientId?: string): Promise<void> {
    await this.request('PATCH', controlPath(product, id), { action, ...(clientId ? { settings: { client_id: clientId } } : {}) });
  }
}
