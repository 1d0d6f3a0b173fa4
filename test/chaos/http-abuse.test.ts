/**
 * Chaos: hostile HTTP against the serve runtime. Oversized bodies (declared, chunked, lying about
 * their length) get a JSON 413, malformed ones a JSON 400, garbage on the wire a 400, and nothing
 * crashes or starts a stream. Slow-loris: hundreds of sockets trickling header or body bytes (and
 * silent ones) are timed out by the server while ordinary requests keep their normal latency.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, type Socket } from 'node:net';
import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { signWebhook } from '../../src/protocol/index.js';
import { cleanupDirs, percentile, sleep, startServe, TOKEN, type Serve } from './helpers.js';

let serve: Serve;
let port: number;
const acted: string[] = [];
before(async () => {
  serve = await startServe({ dataDir: null });
  port = Number(new URL(serve.url).port);
  const handle = serve.runtime.registry.handle.bind(serve.runtime.registry);
  serve.runtime.registry.handle = (e) => {
    acted.push(`${e.lifecycle}:${e.rtmsStreamId}`);
    handle(e);
  };
});
after(async () => {
  await serve.shutdown();
  cleanupDirs();
});

/** Writes raw bytes on a fresh socket; resolves with everything the server sent before closing. */
function raw(parts: (string | Buffer)[], o: { gapMs?: number; maxMs?: number } = {}): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = createConnection(port, '127.0.0.1');
    let text = '';
    let closed = false;
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => {
      closed = true;
      clearTimeout(t);
      resolve({ text, closed });
    });
    const t = setTimeout(() => {
      s.destroy();
      resolve({ text, closed });
    }, o.maxMs ?? 5000);
    void (async () => {
      for (const p of parts) {
        if (s.destroyed) return;
        s.write(p);
        if (o.gapMs) await sleep(o.gapMs);
      }
    })();
  });
}

function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
}
function jsonOf(text: string): { error?: { code: string; message: string } } & Record<string, unknown> {
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
}

async function signedPost(body: string | Buffer, headers: Record<string, string> = {}) {
  const payload = typeof body === 'string' ? body : new Uint8Array(body);
  const r = await fetch(`${serve.url}/webhook`, { method: 'POST', body: payload, headers: { 'content-type': 'application/json', ...signWebhook(TOKEN, body), ...headers } });
  return { status: r.status, type: r.headers.get('content-type') ?? '', json: await r.json() };
}

describe('chaos: oversized bodies', () => {
  const big = 'x'.repeat(1 << 20);
  it('declared too large: JSON 413 and the connection is closed', async () => {
    const r = await raw([`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n`, big]);
    assert.equal(statusOf(r.text), 413);
    assert.equal(jsonOf(r.text).error!.code, 'WEBHOOK_TOO_LARGE');
    assert.match(r.text, /\r\nconnection: close\r\n/i);
    assert.ok(r.closed);
  });
  it('chunked, no length given: JSON 413 (not a reset connection)', async () => {
    const chunk = 'y'.repeat(16 * 1024);
    const parts = ['POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'];
    for (let i = 0; i < 64; i++) parts.push(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    parts.push('0\r\n\r\n');
    const r = await raw(parts);
    assert.equal(statusOf(r.text), 413, `got ${JSON.stringify(r.text.slice(0, 60))}`);
    assert.equal(jsonOf(r.text).error!.code, 'WEBHOOK_TOO_LARGE');
    assert.ok(r.closed);
  });
  it('a 10 GB promise with a few bytes: answered at once, not waited for', async () => {
    const t0 = performance.now();
    const r = await raw([`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n{"event":`]);
    assert.equal(statusOf(r.text), 413);
    assert.ok(r.closed, 'closed instead of draining 10 GB');
    assert.ok(performance.now() - t0 < 2000);
  });
  it('through fetch with a streamed body of 1 MiB: 413 JSON', async () => {
    const stream = new ReadableStream({
      pull(c) {
        c.enqueue(new TextEncoder().encode('z'.repeat(64 * 1024)));
      },
    });
    let status = 0;
    let code = '';
    try {
      const r = await fetch(`${serve.url}/webhook`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
      status = r.status;
      code = ((await r.json()) as { error: { code: string } }).error.code;
    } catch (err) {
      assert.fail(`the client saw no answer: ${(err as Error).message}`);
    }
    assert.deepEqual([status, code], [413, 'WEBHOOK_TOO_LARGE']);
  });
});

describe('chaos: malformed bodies', () => {
  const cases: [string, string | Buffer, number, string][] = [
    ['empty body', '', 400, 'WEBHOOK_BAD_JSON'],
    ['truncated JSON', '{"event":"meeting.rtms_started","payload":{', 400, 'WEBHOOK_BAD_JSON'],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x22, 0x7d]), 400, 'WEBHOOK_BAD_JSON'],
    ['a JSON array', '[1,2,3]', 400, 'WEBHOOK_BAD_BODY'],
    ['a JSON string', '"meeting.rtms_started"', 400, 'WEBHOOK_BAD_BODY'],
    ['null', 'null', 400, 'WEBHOOK_BAD_BODY'],
    ['event is a number', '{"event":5,"payload":{}}', 400, 'WEBHOOK_BAD_BODY'],
    ['start without payload', '{"event":"meeting.rtms_started"}', 400, 'WEBHOOK_BAD_BODY'],
    ['start without server_urls', '{"event":"meeting.rtms_started","payload":{"meeting_uuid":"m","rtms_stream_id":"s"}}', 400, 'WEBHOOK_BAD_BODY'],
    ['start with object ids', '{"event":"meeting.rtms_started","payload":{"meeting_uuid":{"a":1},"rtms_stream_id":["s"],"server_urls":"ws://x"}}', 400, 'WEBHOOK_BAD_BODY'],
    ['url validation without token', '{"event":"endpoint.url_validation","payload":{}}', 400, 'WEBHOOK_BAD_BODY'],
    ['deeply nested arrays', '['.repeat(30_000) + ']'.repeat(30_000), 400, 'WEBHOOK_BAD_BODY'],
    ['deeply nested payload', `{"event":"meeting.rtms_started","payload":{"meeting_uuid":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)},"rtms_stream_id":"s","server_urls":"ws://x"}}`, 400, 'WEBHOOK_BAD_BODY'],
  ];
  for (const [name, body, status, code] of cases) {
    it(`${name}: ${status} ${code}`, async () => {
      const r = await signedPost(body);
      assert.equal(r.status, status);
      assert.match(r.type, /^application\/json/);
      assert.equal(r.json.error.code, code);
    });
  }
  it('__proto__ in the body pollutes nothing and starts nothing', async () => {
    const body = '{"event":"meeting.rtms_started","__proto__":{"polluted":true},"payload":{"__proto__":{"server_urls":"ws://127.0.0.1:9"},"meeting_uuid":"m","rtms_stream_id":"proto"}}';
    const r = await signedPost(body);
    assert.equal(r.status, 400);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
  it('fuzz: 400 signed random bodies are answered 200 or 400 with JSON, never 5xx', async () => {
    const bodies = fc.sample(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.json({ maxDepth: 4 }),
        fc.record({ event: fc.oneof(fc.constantFrom('meeting.rtms_started', 'meeting.rtms_stopped', 'webinar.rtms_started', 'endpoint.url_validation'), fc.string()), payload: fc.anything() }).map((o) => JSON.stringify(o) ?? 'null'),
        fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a).toString('latin1')),
      ),
      { numRuns: 400, seed: 42 },
    );
    const statuses = new Map<number, number>();
    for (const body of bodies) {
      const r = await fetch(`${serve.url}/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...signWebhook(TOKEN, body) } });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      assert.ok(r.status === 200 || r.status === 400, `${r.status} for ${JSON.stringify(body).slice(0, 200)}`);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      await r.json();
    }
    assert.ok((statuses.get(400) ?? 0) > 100, 'most random bodies are rejected');
  });
  it('garbage on the wire: 400 and closed, never a crash', async () => {
    for (const text of ['GARBAGE\r\n\r\n', 'POST /webhook HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', 'POST /webhook HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 'POST /webhook HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', '\x00\x01\x02\x16\x03\x01 TLS?\r\n\r\n']) {
      const r = await raw([text]);
      assert.equal(statusOf(r.text), 400, JSON.stringify(text));
      assert.ok(r.closed);
    }
  });
  it('afterwards: healthy, and not one of these started or stopped a stream', async () => {
    assert.equal((await fetch(`${serve.url}/healthz`)).status, 200);
    assert.deepEqual(acted, []);
    assert.equal(serve.runtime.registry.list().length, 0);
  });
});

describe('chaos: slow-loris', () => {
  it('300 slow sockets are timed out while normal requests keep their latency', { timeout: 60_000 }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const body = JSON.stringify({ event: 'meeting.participant_joined', payload: { object: {} } });
    const one = () =>
      new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        const req = request({ host: '127.0.0.1', port, path: '/webhook', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...signWebhook(TOKEN, body) } }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`status ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end(body);
      });
    const measure = async (ms: number) => {
      const out: number[] = [];
      const end = Date.now() + ms;
      while (Date.now() < end) {
        out.push(await one());
        await sleep(10);
      }
      return out;
    };
    const baseline = await measure(2000);

    // The attack: 200 sockets trickle header bytes, 50 send headers then trickle a body, 50 say nothing.
    const t0 = Date.now();
    const sockets: { kind: string; socket: Socket; closedAfterMs?: number; answer: string }[] = [];
    const headers = `POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Pad: ${'a'.repeat(4000)}\r\n\r\n`;
    const open = (kind: string, first: string, trickle: string) => {
      const socket = createConnection(port, '127.0.0.1');
      const s = { kind, socket, answer: '' as string, closedAfterMs: undefined as number | undefined };
      socket.on('data', (d) => (s.answer += d));
      socket.on('error', () => {});
      socket.on('close', () => (s.closedAfterMs = Date.now() - t0));
      if (first) socket.write(first);
      let i = 0;
      if (trickle) {
        const timer = setInterval(() => (socket.destroyed || i >= trickle.length ? clearInterval(timer) : socket.write(trickle[i++])), 200);
      }
      sockets.push(s);
    };
    for (let i = 0; i < 200; i++) open('headers', '', headers);
    for (let i = 0; i < 50; i++) open('body', 'POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n', 'x'.repeat(5000));
    for (let i = 0; i < 50; i++) open('silent', '', '');

    const during = await measure(8000);
    while (sockets.some((s) => s.closedAfterMs === undefined) && Date.now() - t0 < 25_000) await sleep(100);
    const after = await measure(1000);
    for (const s of sockets) s.socket.destroy();
    agent.destroy();

    const closed = (kind: string) => sockets.filter((s) => s.kind === kind).map((s) => s.closedAfterMs ?? Infinity);
    const worst = (kind: string) => Math.max(...closed(kind));
    // Headers must be complete within 10 s, a whole request within 15 s; checked every second.
    assert.ok(worst('headers') <= 12_500, `header tricklers closed after ${worst('headers')} ms`);
    assert.ok(worst('silent') <= 12_500, `silent sockets closed after ${worst('silent')} ms`);
    assert.ok(worst('body') <= 17_500, `body tricklers closed after ${worst('body')} ms`);
    for (const s of sockets) assert.match(s.answer, /^HTTP\/1\.1 408 /, `${s.kind}: answered 408 Request Timeout`);

    const p = (xs: number[], q: number) => percentile(xs, q);
    assert.ok(p(during, 99) < Math.max(25, 5 * p(baseline, 99)), `p99 during the attack ${p(during, 99).toFixed(2)} ms vs ${p(baseline, 99).toFixed(2)} ms before`);
    assert.ok(during.length > 200, `${during.length} requests answered in 8 s during the attack`);
    assert.equal((await fetch(`${serve.url}/healthz`)).status, 200);
    console.log(
      `# chaos slow-loris: 300 sockets; closed after ≤ ${worst('headers')} ms (headers), ${worst('silent')} ms (silent), ${worst('body')} ms (body); ` +
        `webhook p50/p99 before ${p(baseline, 50).toFixed(2)}/${p(baseline, 99).toFixed(2)} ms, during ${p(during, 50).toFixed(2)}/${p(during, 99).toFixed(2)} ms (${during.length} requests), after ${p(after, 50).toFixed(2)}/${p(after, 99).toFixed(2)} ms`,
    );
  });
});
