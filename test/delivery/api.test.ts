import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';
import { createRuntime } from '../../src/server/runtime.js';
import { describeTarget } from '../../src/delivery/hub.js';
import { DESTINATION_FACTORIES, assertDestinationsBuilt } from '../../src/delivery/factories.js';
import { ConfigError } from '../../src/errors.js';
import type { DeliveryEvent } from '../../src/delivery/types.js';
import { Receiver } from './receiver.js';

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'openrtms-dlv-api-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
};
const base = { clientId: 'c', clientSecret: 's', secretToken: 't', webhookPath: '/webhook' };

describe('GET /api/delivery, dead letters and replay (behind the API token)', () => {
  it('lists destinations without secrets; an event past maxAge is a dead letter; POST replay delivers it', async () => {
    const rx = new Receiver('api-hook-secret');
    await rx.listen();
    cleanups.push(() => rx.close());
    const dataDir = tmp();
    const store = await openStore({ dataDir, databaseUrl: null });
    const runtime = createRuntime({
      ...base,
      store,
      dataDir,
      apiToken: 'tok',
      destinations: [
        { type: 'webhook', name: 'crm', url: rx.url.replace('http://', 'http://user:pw@') + '?key=QUERY-SECRET', secret: 'api-hook-secret', maxAgeHours: 0.3 / 3600, timeoutMs: 2000, match: { products: ['meeting'] } },
        { type: 'webhook', name: 'other', url: rx.url, secret: 'api-hook-secret', maxAgeHours: 24, timeoutMs: 200, events: ['stream.started'] },
      ],
      deliveryTuning: { initialBackoffMs: 50, maxBackoffMs: 100, pollMs: 20 },
    });
    cleanups.push(() => runtime.shutdown());
    const { url } = await runtime.app.listen(0, '127.0.0.1');
    const auth = { authorization: 'Bearer tok' };
    rx.behaviour = 'fail';
    const e: DeliveryEvent = { id: 'evt_api_1', type: 'transcript.segment', createdAt: 1, stream: { rtmsStreamId: 's', meetingUuid: 'm', product: 'meeting' }, data: { text: 'hi' } };
    runtime.delivery.emit(e);
    runtime.delivery.emit({ ...e, id: 'evt_webinar', stream: { ...e.stream, product: 'webinar' } }); // matches neither
    await rx.waitFor(() => runtime.delivery.list()[0].stats.failed === 1, 5000, 'a dead letter');

    assert.equal((await fetch(`${url}/api/delivery`)).status, 401);
    const list = (await (await fetch(`${url}/api/delivery`, { headers: auth })).json()) as { destinations: { name: string; target: string; stats: { failed: number; queued: number } }[] };
    assert.deepEqual(list.destinations.map((d) => [d.name, d.target]), [['crm', rx.url], ['other', rx.url]]);
    assert.doesNotMatch(JSON.stringify(list), /api-hook-secret|QUERY-SECRET|pw@/);
    assert.equal(list.destinations[0].stats.failed, 1);
    assert.equal(list.destinations[1].stats.queued, 0, 'the other destination takes only stream.started');

    assert.equal((await fetch(`${url}/api/delivery/dead-letters`)).status, 401);
    const dl = (await (await fetch(`${url}/api/delivery/dead-letters?destination=crm`, { headers: auth })).json()) as { deadLetters: { id: string; destination: string; lastError: string; attempts: number }[] };
    assert.deepEqual(dl.deadLetters.map((d) => [d.id, d.destination, d.lastError]), [['evt_api_1', 'crm', 'HTTP 500']]);
    assert.equal((await fetch(`${url}/api/delivery/dead-letters?destination=nope`, { headers: auth })).status, 404);

    rx.behaviour = 'ok';
    const post = (body: unknown, headers: Record<string, string> = auth) => fetch(`${url}/api/delivery/dead-letters/replay`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await post({}, {})).status, 401);
    assert.equal((await post({ destination: '' })).status, 400);
    assert.equal((await post({ destination: 'nope' })).status, 404);
    const r = await post({ destination: 'crm' });
    assert.deepEqual(await r.json(), { replayed: { crm: 1 } });
    await rx.waitFor(() => rx.ids().has('evt_api_1'), 3000, 'the replayed event');
    assert.deepEqual(rx.accepted.map((a) => a.id), ['evt_api_1'], 'only the matching event, once');
    // Alerts of the runtime's AlertLog go out as `alert` events.
    runtime.alerts.fromWebhook('meeting.rtms_start_failed', 'RTMS_START_FAILED', { meeting_uuid: 'm', rtms_stream_id: 's', reason: 'boom' }, undefined, 'meeting');
    await rx.waitFor(() => rx.accepted.some((a) => a.type === 'alert'), 3000, 'the alert event');
    const alert = rx.accepted.find((a) => a.type === 'alert')!;
    assert.deepEqual([alert.stream, alert.data.code, alert.data.event], [{ rtmsStreamId: 's', meetingUuid: 'm', product: 'meeting' }, 'RTMS_START_FAILED', 'meeting.rtms_start_failed']);
    assert.match(alert.data.message, /boom/);
    await rx.waitFor(() => runtime.delivery.list()[0].stats.delivered === 2, 2000, 'both answers recorded');
    const metrics = await (await fetch(`${url}/metrics`, { headers: auth })).text();
    assert.match(metrics, /openrtms_delivery_failed\{destination="crm"\} 0/);
    assert.match(metrics, /openrtms_delivery_delivered_total\{destination="crm"\} 2/, 'the replayed event and the alert');
    // Every failed attempt but the last (which made it a dead letter) was counted as a retry.
    assert.match(metrics, new RegExp(`openrtms_delivery_retried_total\\{destination="crm"\\} ${dl.deadLetters[0].attempts - 1}\n`));
  });

  it('a destination type a build has no factory for is a one-line ConfigError; RTMP keys and S3 credentials are never shown', () => {
    assert.throws(
      () => assertDestinationsBuilt([{ type: 'rtmp', name: 'yt', url: 'rtmp://a.rtmp.youtube.com/live2/KEY' }], { webhook: DESTINATION_FACTORIES.webhook }),
      (err: unknown) => err instanceof ConfigError && err.message === 'destinations[0].type: destination type rtmp is not built into this version of openrtms',
    );
    assert.doesNotThrow(() => assertDestinationsBuilt([{ type: 'rtmp', name: 'yt', url: 'rtmp://h/live/KEY' }]), 'this build has every kind');
    assert.equal(describeTarget({ type: 'rtmp', name: 'yt', url: 'rtmp://a.rtmp.youtube.com/live2/SECRET-KEY' }), 'rtmp://a.rtmp.youtube.com/live2/***');
    assert.equal(describeTarget({ type: 'rtmp', name: 'yt', url: 'rtmps://u:p@h:443/SECRET-KEY' }), 'rtmps://h:443/***');
    assert.equal(describeTarget({ type: 's3', name: 's', bucket: 'b', prefix: 'p/', region: 'r', forcePathStyle: false, deleteLocal: false, accessKeyId: 'AK', secretAccessKey: 'SK' }), 's3://b/p/');
  });
});
