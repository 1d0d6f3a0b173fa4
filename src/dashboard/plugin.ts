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
import { presentedToken, TOKEN_COOKIE, tokenMatches } from '../server/auth.js';

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

const LOGIN = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>openrtms — token needed</title>
<style>body{font:15px system-ui,sans-serif;background:#0f1115;color:#e6e8ee;display:grid;place-items:center;height:100vh;margin:0}
form{background:#171a21;padding:28px;border-radius:10px;border:1px solid #262b36}input{padding:7px 10px;border-radius:6px;border:1px solid #262b36;background:#0f1115;color:inherit;width:260px}
button{margin-left:8px;padding:7px 14px;border-radius:6px;border:0;background:#4f8cff;color:white}</style></head>
<body><form method="get" action="/"><h2>openrtms</h2><p>This server needs its API token (OPENRTMS_API_TOKEN).</p>
<input name="token" type="password" autofocus placeholder="API token"><button>Open</button></form></body></html>`;

export async function dashboardRoutes(app: FastifyInstance, opts: DashboardOptions): Promise<void> {
  const dir = opts.publicDir ?? dashboardDir();
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { body: readFileSync(join(dir, name)), type });
  }
  const token = opts.apiToken;

  const allowed = (req: FastifyRequest) => !token || tokenMatches(presentedToken(req), token);

  const page = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!allowed(req)) return reply.code(401).type('text/html; charset=utf-8').send(LOGIN);
    const q = (req.query as { token?: string }).token;
    if (token && q) {
      // Keep the token in a cookie and take it out of the address bar.
      reply.header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(q)}; HttpOnly; SameSite=Strict; Path=/${req.protocol === 'https' ? '; Secure' : ''}`);
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
