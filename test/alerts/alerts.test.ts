import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postSigned } from '../../src/emulator/webhook-sender.js';
import { openStore } from '../../src/store/open.js';
import { createRuntime } from '../../src/server/runtime.js';
import { classifyAlertEvent } from '../../src/alerts/events.js';
import { guidanceForKind, guidanceForStatus } from '../../src/alerts/guidance.js';

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('guidance tables', () => {
  it('per handshake status, keyed by Zoom library number', () => {
    assert.equal(guidanceForStatus(0).name, 'SUCCESS');
    assert.equal(guidanceForStatus(2).name, 'INVALID_RTMS_STREAM_ID');
    assert.equal(guidanceForStatus(3).name, 'INVALID_SIGNATURE');
    assert.equal(guidanceForStatus(8).name, 'DUPLICATE_SIGNAL_REQUEST');
    assert.match(guidanceForStatus(8).fixes.join(' '), /1\.5 s/);
    assert.equal(guidanceForStatus(47).name, 'CHAT_SESSION_KEY_NOT_AVAILABLE');
    assert.match(guidanceForStatus(3, 'session').causes[0], /Video SDK streams need the SDK key, not the OAuth client id/);
    assert.match(guidanceForStatus(44).name, /STATUS_44/);
    for (let n = 1; n <= 47; n++) assert.ok(guidanceForStatus(n).causes.length > 0, `status ${n} has causes`);
  });

  it('per failure kind', () => {
    assert.match(guidanceForKind('WEBHOOK_APP_MISMATCH').causes.join(' '), /this secret token belongs to another app/);
    assert.match(guidanceForKind('WEBHOOK_APP_MISMATCH').fixes.join(' '), /check which app this product's webhook comes from/);
    assert.equal(guidanceForKind('RTMS_CONCURRENCY_LIMITED').category, 'limit');
  });

  it('alert webhook names, with product prefixes', () => {
    assert.deepEqual(classifyAlertEvent('rtms.start_failed'), { kind: 'RTMS_START_FAILED' });
    assert.deepEqual(classifyAlertEvent('rtms.concurrency_limited'), { kind: 'RTMS_CONCURRENCY_LIMITED' });
    assert.deepEqual(classifyAlertEvent('rtms.concurrency_near_limit'), { kind: 'RTMS_CONCURRENCY_NEAR_LIMIT' });
    assert.deepEqual(classifyAlertEvent('meeting.rtms_start_failed'), { kind: 'RTMS_START_FAILED', product: 'meeting' });
    assert.equal(classifyAlertEvent('meeting.rtms_started'), undefined);
    assert.equal(classifyAlertEvent('rtms.start_failedx'), undefined);
  });
});

describe('alert webhooks in the server', () => {
  it('rtms.start_failed is verified, answered 200, listed by /api/alerts with guidance and counted in /metrics', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-alerts-'));
    dirs.push(dataDir);
    const store = await openStore({ dataDir, databaseUrl: null });
    const logged: string[] = [];
    const logger = { info() {}, warn() {}, error: (_o: object, m?: string) => void logged.push(m ?? '') };
    const runtime = createRuntime({ clientId: 'c', clientSecret: 's', secretToken: 'alert-token', webhookPath: '/webhook', store, dataDir, logger, apiToken: 'api-secret' });
    const { url } = await runtime.app.listen(0, '127.0.0.1');
    cleanups.push(() => runtime.shutdown());
    const body = JSON.stringify({ event: 'rtms.start_failed', event_ts: Date.now(), payload: { meeting_uuid: 'abc==', rtms_stream_id: 'r1', reason: 'app not allowed by host', nested: { secret: 'x' } } });
    assert.equal((await postSigned(`${url}/webhook`, 'wrong-token', body)).status, 401, 'verified like any webhook');
    assert.equal((await postSigned(`${url}/webhook`, 'alert-token', body)).status, 200);
    assert.equal((await postSigned(`${url}/webhook`, 'alert-token', JSON.stringify({ event: 'rtms.concurrency_limited', payload: {} }))).status, 200);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await fetch(`${url}/api/alerts`)).status, 401, 'behind the API token');
    const res = await fetch(`${url}/api/alerts`, { headers: { authorization: 'Bearer api-secret' } });
    const { alerts } = (await res.json()) as { alerts: { code: string; message: string; event: string; meetingUuid: string; guidance: { causes: string[]; fixes: string[] } }[] };
    assert.deepEqual(alerts.map((a) => a.code), ['RTMS_CONCURRENCY_LIMITED', 'RTMS_START_FAILED']);
    const failed = alerts[1];
    assert.equal(failed.event, 'rtms.start_failed');
    assert.equal(failed.meetingUuid, 'abc==');
    assert.match(failed.message, /app not allowed by host/);
    assert.ok(failed.guidance.causes.length > 0 && failed.guidance.fixes.length > 0);
    assert.ok(logged.some((m) => /rtms\.start_failed.*likely:.*fix:/.test(m)), logged.join('\n'));
    const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer api-secret' } })).text();
    assert.match(metrics, /openrtms_alerts_total\{code="RTMS_START_FAILED"\} 1/);
    assert.match(metrics, /openrtms_alerts_total\{code="RTMS_CONCURRENCY_LIMITED"\} 1/);
    assert.equal(runtime.registry.list().length, 0);
  });
});
