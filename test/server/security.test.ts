// The web app's defences: security headers and a CSP the dashboard actually satisfies, the token
// cookie's flags, cross-site refusal of state changes, wrong-token slowdown, the constant-time token
// comparison and secrets kept out of answers.
import { after, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveBus } from '../../src/live/bus.js';
import { createWebApp, type WebApp } from '../../src/server/web.js';
import { BadTokenLimiter, tokenMatches } from '../../src/server/auth.js';
import { dashboardDir } from '../../src/dashboard/plugin.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';
import { clearSecrets, registerSecrets } from '../../src/util/secrets.js';

const TOKEN = 'sec-token-0123456789';
let dir: string;
let store: Store;
const apps: WebApp[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openrtms-sec-'));
  store = await openStore({ dataDir: dir, databaseUrl: null });
});
after(async () => {
  for (const a of apps) await a.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  clearSecrets();
});

async function webApp(o: Partial<Parameters<typeof createWebApp>[0]> = {}): Promise<WebApp> {
  const web = createWebApp({ store, bus: new LiveBus(), dataDir: dir, apiToken: TOKEN, ...o });
  apps.push(web);
  await web.ready;
  return web;
}

const directives = (csp: string) => new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));

describe('security headers', () => {
  it('the dashboard page: a CSP without inline script or style, never framed, nosniff', async () => {
    const web = await webApp();
    for (const url of [`/?token=${TOKEN}`, '/', `/assets/app.js`]) {
      const res = await web.app.inject({ url, headers: url === '/' ? { authorization: `Bearer ${TOKEN}` } : {} });
      const csp = directives(String(res.headers['content-security-policy']));
      assert.deepEqual(csp.get('script-src'), ["'self'"], url);
      assert.deepEqual(csp.get('style-src'), ["'self'"], url);
      assert.deepEqual(csp.get('script-src-attr'), ["'none'"], url);
      assert.deepEqual(csp.get('frame-ancestors'), ["'none'"], url);
      assert.deepEqual(csp.get('object-src'), ["'none'"], url);
      assert.ok(!String(res.headers['content-security-policy']).includes('unsafe'), url);
      assert.ok(!csp.has('upgrade-insecure-requests'), 'plain-http loopback must keep loading its assets');
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(res.headers['x-frame-options'], 'DENY', url);
      assert.equal(res.headers['strict-transport-security'], undefined, 'no HSTS on plain http');
    }
    const api = await web.app.inject({ url: '/api/streams', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(api.headers['x-content-type-options'], 'nosniff');
  });

  it('the dashboard needs nothing the CSP forbids: no inline script, handler or style', async () => {
    const web = await webApp();
    const login = (await web.app.inject({ url: '/' })).body;
    const pages = [login, ...readdirSync(dashboardDir()).filter((f) => f.endsWith('.html')).map((f) => readFileSync(join(dashboardDir(), f), 'utf8'))];
    for (const html of pages) {
      for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) assert.match(tag, /\ssrc=/, `inline script: ${tag}`);
      assert.doesNotMatch(html, /<style\b/i, 'inline <style>');
      assert.doesNotMatch(html, /\sstyle=/i, 'style attribute');
      assert.doesNotMatch(html, /\son[a-z]+=/i, 'inline event handler');
      assert.doesNotMatch(html, /javascript:/i);
    }
    for (const f of readdirSync(dashboardDir()).filter((n) => n.endsWith('.js'))) {
      const js = readFileSync(join(dashboardDir(), f), 'utf8');
      assert.doesNotMatch(js, /\beval\(|new Function\(|setAttribute\(\s*['"](style|on[a-z]+)['"]/, f);
    }
    assert.equal((await web.app.inject({ url: '/assets/login.css' })).statusCode, 200, 'the login form\'s styles are an asset');
  });
});

describe('the token cookie', () => {
  const cookieOf = (res: { headers: Record<string, unknown> }) => String(res.headers['set-cookie']);
  it('is HttpOnly and SameSite=Strict; Secure only over TLS', async () => {
    const web = await webApp();
    const plain = await web.app.inject({ url: `/?token=${TOKEN}` });
    assert.equal(plain.statusCode, 303);
    assert.match(cookieOf(plain), /^openrtms_token=sec-token-0123456789; HttpOnly; SameSite=Strict; Path=\/$/);
    const spoofed = await web.app.inject({ url: `/?token=${TOKEN}`, headers: { 'x-forwarded-proto': 'https' } });
    assert.doesNotMatch(cookieOf(spoofed), /Secure/, 'X-Forwarded-Proto is not trusted by default');
  });
  it('behind a trusted TLS proxy (OPENRTMS_TRUST_PROXY=1) it is Secure, and HSTS is sent', async () => {
    const web = await webApp({ trustProxy: true });
    const res = await web.app.inject({ url: `/?token=${TOKEN}`, headers: { 'x-forwarded-proto': 'https' } });
    assert.match(cookieOf(res), /; HttpOnly; SameSite=Strict; Path=\/; Secure$/);
    assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/);
    const viaHttp = await web.app.inject({ url: `/?token=${TOKEN}`, headers: { 'x-forwarded-proto': 'http' } });
    assert.doesNotMatch(cookieOf(viaHttp), /Secure/);
  });
});

describe('cross-site state changes', () => {
  const cases = [
    { method: 'POST' as const, url: '/api/control', payload: { product: 'meeting', id: 'x', action: 'stop' } },
    { method: 'POST' as const, url: '/api/delivery/dead-letters/replay', payload: {} },
    { method: 'DELETE' as const, url: '/api/streams/abc' },
    { method: 'POST' as const, url: '/mcp', payload: { jsonrpc: '2.0', id: 1, method: 'tools/list' } },
  ];
  it('are refused with 403 and a clear message, with the dashboard cookie or without a token', async () => {
    const guarded = await webApp();
    const open = await webApp({ apiToken: undefined });
    for (const web of [guarded, open]) {
      for (const c of cases) {
        for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'null' }]) {
          const res = await web.app.inject({ ...c, headers: { ...headers, cookie: `openrtms_token=${TOKEN}` } });
          assert.equal(res.statusCode, 403, `${c.method} ${c.url} ${JSON.stringify(headers)}`);
          const body = res.json() as { error: { code: string; message: string } };
          assert.equal(body.error.code, 'CROSS_SITE_REFUSED');
          assert.match(body.error.message, new RegExp(`cross-site ${c.method} ${c.url.replace(/\//g, '\\/')} refused`));
        }
      }
    }
  });
  it('pass from the server\'s own pages, with a bearer token, or from non-browser clients', async () => {
    const web = await webApp();
    const control = cases[0]!;
    const sameOrigin = await web.app.inject({ ...control, headers: { origin: 'http://localhost:80', host: 'localhost:80', 'sec-fetch-site': 'same-origin', cookie: `openrtms_token=${TOKEN}` } });
    assert.equal(sameOrigin.statusCode, 503, 'reaches the route (no control configured here)');
    const bearer = await web.app.inject({ ...control, headers: { origin: 'https://mcp-inspector.example', 'sec-fetch-site': 'cross-site', authorization: `Bearer ${TOKEN}` } });
    assert.equal(bearer.statusCode, 503);
    const curl = await web.app.inject({ ...control, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(curl.statusCode, 503);
    const reads = await web.app.inject({ url: '/api/streams', headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', cookie: `openrtms_token=${TOKEN}` } });
    assert.equal(reads.statusCode, 200, 'reading is not a state change (and CORS keeps the answer from the other site)');
  });
});

describe('wrong tokens', () => {
  it('are slowed down per address: 429 with Retry-After, even for the right token, until the window ends', async () => {
    const web = await webApp({ badTokens: { max: 3, windowMs: 1500 } });
    const get = (token: string, ip = '203.0.113.7') => web.app.inject({ url: '/api/streams', remoteAddress: ip, headers: token ? { authorization: `Bearer ${token}` } : {} });
    for (let i = 0; i < 5; i++) assert.equal((await get('')).statusCode, 401, 'no token at all does not count');
    for (let i = 0; i < 3; i++) assert.equal((await get(`guess-${i}`)).statusCode, 401);
    const blocked = await get(TOKEN);
    assert.equal(blocked.statusCode, 429);
    assert.equal(blocked.json().error.code, 'TOO_MANY_BAD_TOKENS');
    assert.ok(Number(blocked.headers['retry-after']) >= 1);
    assert.equal((await web.app.inject({ url: `/?token=guess`, remoteAddress: '203.0.113.7' })).statusCode, 429, 'the dashboard shares the limiter');
    assert.equal((await get(TOKEN, '198.51.100.1')).statusCode, 200, 'another address is not affected');
    await new Promise((r) => setTimeout(r, 1600));
    assert.equal((await get(TOKEN)).statusCode, 200, 'the window ended');
  });
  it('the limiter tracks a bounded number of addresses', () => {
    let now = 0;
    const l = new BadTokenLimiter({ max: 1, windowMs: 1000, maxAddresses: 100, now: () => now });
    for (let i = 0; i < 1000; i++) l.fail(`10.0.${i >> 8}.${i & 255}`);
    assert.equal(l.blockedFor('10.0.0.0'), 0, 'the oldest was dropped');
    assert.equal(l.blockedFor('10.0.3.231'), 1000);
    now = 1000;
    assert.equal(l.blockedFor('10.0.3.231'), 0);
  });
});

describe('token comparison', () => {
  it('compares equal-length digests in constant time, whatever the lengths presented', () => {
    const spy = mock.method(crypto, 'timingSafeEqual');
    syncBuiltinESMExports();
    try {
      for (const given of ['', 'x', TOKEN.slice(0, -1), TOKEN, `${TOKEN}x`, 'y'.repeat(5000)]) {
        assert.equal(tokenMatches(given, TOKEN), given === TOKEN, given.slice(0, 20));
      }
      assert.equal(spy.mock.callCount(), 6, 'every comparison goes through timingSafeEqual, none short-cuts on length');
      for (const call of spy.mock.calls) assert.deepEqual(call.arguments.map((b) => (b as Buffer).length), [32, 32]);
    } finally {
      spy.mock.restore();
      syncBuiltinESMExports();
    }
  });
});

describe('secrets in answers', () => {
  it('a registered secret never leaves in an API answer, even echoed back in an error', async () => {
    const web = await webApp({ apiToken: undefined });
    registerSecrets(['Azure-AccountKey=abcdef0123456789==']);
    try {
      const res = await web.app.inject({ url: `/api/nothing/${encodeURIComponent('Azure-AccountKey=abcdef0123456789==')}/Azure-AccountKey=abcdef0123456789==` });
      assert.equal(res.statusCode, 404);
      assert.doesNotMatch(res.body, /abcdef0123456789/);
      assert.match(res.json().error.message, /\[redacted\]/);
    } finally {
      clearSecrets();
    }
  });
});

describe('cross-site WebSocket', () => {
  it('the live feed refuses a handshake from another site (no CORS protects a WebSocket) and accepts its own pages', async () => {
    const { WebSocket } = await import('ws');
    const web = await webApp({ apiToken: undefined });
    await web.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = web.app.server.address() as { port: number };
    const open = (origin: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/api/live`, { origin });
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('error', () => resolve(-1));
      });
    assert.equal(await open('https://evil.example'), 403);
    assert.equal(await open(`http://127.0.0.1:${port}`), 101);
  });
});
