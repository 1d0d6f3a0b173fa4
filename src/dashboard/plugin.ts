/**
 * Fastify plugin: the web dashboard at `/` and its static assets under `/assets/`. Plain ES modules
 * and CSS from `public/`, served as they are (no build step). The folder is found next to this file
 * (src/ under tsx, dist/ when the build copied it) or in the package's src/dashboard/public.
 *
 * With an API token, opening `/?token=<token>` once stores it in an HttpOnly cookie, which then
 * authorises the page's API calls, the live WebSocket, links and <audio> elements.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadTokenLimiter, checkToken, refuse, TOKEN_COOKIE } from '../server/auth.js';

export interface DashboardOptions {
  apiToken?: string;
  /** Folder of index.html, app.js, style.css. Default: found automatically. */
  publicDir?: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** The dashboard's static folder, from src/ or dist/. */
export function dashboardDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'public'), join(here, '..', '..', 'src', 'dashboard', 'public')];
  for (const c of candidates) if (existsSync(join(c, 'index.html'))) return c;
  throw new Error(`dashboard files not found (looked in ${candidates.join(', ')})`);
}

// No inline style or script: the Content-Security-Policy (src/server/web.ts) allows neither.
const LOGIN = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>openrtms — token needed</title>
<link rel="stylesheet" href="/assets/login.css"></head>
<body><form method="get" action="/"><h2>openrtms</h2><p>This server needs its API token (OPENRTMS_API_TOKEN).</p>
<input name="token" type="password" autofocus placeholder="API token"><button>Open</button></form></body></html>`;

/**
 * The token cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's request carries
 * it) and Secure when the page came over TLS — directly, or through a reverse proxy that says so in
 * X-Forwarded-Proto when the server trusts it (OPENRTMS_TRUST_PROXY=1).
 */
export function tokenCookie(value: string, secure: boolean): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(value)}; HttpOnly; SameSite=Strict; Path=/${secure ? '; Secure' : ''}`;
}

export async function dashboardRoutes(app: FastifyInstance, opts: DashboardOptions): Promise<void> {
  const dir = opts.publicDir ?? dashboardDir();
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { body: readFileSync(join(dir, name)), type });
  }
  const token = opts.apiToken;

  const limiter = new BadTokenLimiter();

  const page = async (req: FastifyRequest, reply: FastifyReply) => {
    const check = checkToken(req, token, limiter);
    if (!check.ok && check.status === 429) return refuse(reply, check);
    if (!check.ok) return reply.code(401).type('text/html; charset=utf-8').send(LOGIN);
    const q = (req.query as { token?: string }).token;
    if (token && q) {
      // Keep the token in a cookie and take it out of the address bar.
      reply.header('set-cookie', tokenCookie(q, req.protocol === 'https'));
      return reply.redirect('/', 303);
    }
    const f = files.get('index.html')!;
    return reply.type(f.type).header('cache-control', 'no-cache').send(f.body);
  };
  app.get('/', page);
  app.get('/index.html', page);
  app.get<{ Params: { file: string } }>('/assets/:file', async (req, reply) => {
    const f = /^[a-z0-9][a-z0-9._-]*$/i.test(req.params.file) ? files.get(req.params.file) : undefined;
    if (!f || req.params.file === 'index.html') return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no asset ${req.params.file}` } });
    return reply.type(f.type).header('cache-control', 'no-cache').send(f.body);
  });
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
}
