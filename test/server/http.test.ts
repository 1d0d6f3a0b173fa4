import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, type Runtime } from '../../src/server/runtime.js';
import { openStore } from '../../src/store/open.js';
import { PRODUCTS, WEBHOOK_EVENTS, ID_FIELD, signWebhook, urlValidationResponse } from '../../src/protocol/index.js';

const TOKEN = 'http-token';
let runtime: Runtime;
let base: string;
let dir: string;
const joins: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openrtms-http-'));
  const store = await openStore({ dataDir: dir, databaseUrl: null });
  runtime = createRuntime({ clientId: 'c', clientSecret: 's', secretToken: TOKEN, webhookPath: '/webhook', store, apiToken: 'api-secret', client: { reconnect: { enabled: false }, joinTimeoutMs: 300 } });
  // Record what the registry is asked to start instead of letting clients connect anywhere.
  const handle = runtime.registry.handle.bind(runtime.registry);
  runtime.registry.handle = (e) => {
    joins.push(`${e.lifecycle}:${e.product}:${e.rtmsStreamId}`);
    if (e.lifecycle !== 'started') handle(e);
  };
  base = (await runtime.app.listen(0, '127.0.0.1')).url;
});
after(async () => {
  await runtime.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

async function post(body: string, headers: Record<string, string> = signWebhook(TOKEN, body)) {
  const r = await fetch(`${base}/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: r.status, json: await r.json().catch(() => null) };
}
const tick = () => new Promise((r) => setTimeout(r, 20));

describe('webhook over real HTTP', () => {
  it('every product family: one start acted on, retries and late starts acknowledged but ignored', async () => {
    for (const product of PRODUCTS) {
      const id = `stream-${product}`;
      const start = JSON.stringify({ event: WEBHOOK_EVENTS[product].started, payload: { [ID_FIELD[product]]: 'u/1+=', rtms_stream_id: id, server_urls: 'ws://127.0.0.1:9/x' } });
      const stop = JSON.stringify({ event: WEBHOOK_EVENTS[product].stopped, payload: { [ID_FIELD[product]]: 'u/1+=', rtms_stream_id: id } });
      for (const body of [start, start, start, stop, stop, start]) assert.equal((await post(body)).status, 200);
      const interrupted = JSON.stringify({ event: WEBHOOK_EVENTS[product].interrupted, payload: { [ID_FIELD[product]]: 'u/1+=', rtms_stream_id: id } });
      assert.equal((await post(interrupted)).status, 200);
    }
    await tick();
    for (const product of PRODUCTS) {
      assert.deepEqual(joins.filter((j) => j.endsWith(`stream-${product}`)), [`started:${product}:stream-${product}`, `stopped:${product}:stream-${product}`, `interrupted:${product}:stream-${product}`]);
    }
  });
  it('401 for a bad or missing signature and a stale timestamp', async () => {
    const body = JSON.stringify({ event: 'meeting.rtms_started', payload: {} });
    assert.equal((await post(body, signWebhook('wrong', body))).status, 401);
    assert.equal((await post(body, {})).status, 401);
    const stale = await post(body, signWebhook(TOKEN, body, Date.now() - 10 * 60_000));
    assert.equal(stale.status, 401);
    assert.equal(stale.json.error.code, 'WEBHOOK_STALE_TIMESTAMP');
  });
  it('answers endpoint.url_validation', async () => {
    const r = await post(JSON.stringify({ event: 'endpoint.url_validation', payload: { plainToken: 'pt' } }));
    assert.deepEqual(r.json, urlValidationResponse(TOKEN, 'pt'));
  });
  it('400 for malformed JSON, 413 for a huge body, 200 for unknown events, 405 for GET', async () => {
    assert.equal((await post('{"event":')).status, 400);
    assert.equal((await post(JSON.stringify({ event: 'x', pad: 'y'.repeat(100_000) }))).status, 413);
    const unknown = await post(JSON.stringify({ event: 'meeting.started', payload: {} }));
    assert.deepEqual([unknown.status, unknown.json.ignored], [200, 'meeting.started']);
    assert.equal((await fetch(`${base}/webhook`)).status, 405);
  });
  it('health and readiness; the API needs the token when one is set', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const denied = await fetch(`${base}/api/streams`);
    assert.equal(denied.status, 401);
    assert.equal((await denied.json()).error.code, 'UNAUTHORIZED');
    assert.equal((await fetch(`${base}/api/streams`, { headers: { authorization: 'Bearer api-secret' } })).status, 200);
    assert.equal((await fetch(`${base}/api/streams/nope?token=api-secret`)).status, 404);
  });
});
