import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '../../src/delivery/outbox.js';
import { WebhookDestination, type WebhookTuning } from '../../src/delivery/webhook.js';
import { signWebhook, verifyWebhookSignature } from '../../src/delivery/signature.js';
import type { DeliveryEvent, WebhookDestinationConfig } from '../../src/delivery/types.js';
import { Receiver } from './receiver.js';

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'openrtms-deliver-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
};
const fast: WebhookTuning = { initialBackoffMs: 50, maxBackoffMs: 200, pollMs: 20, concurrency: 4 };

async function setup(opts: Partial<WebhookDestinationConfig> = {}, tuning: WebhookTuning = fast, dir = tmp()) {
  const rx = new Receiver('s3cr3t');
  await rx.listen();
  cleanups.push(() => rx.close());
  const outbox = new Outbox(join(dir, 'delivery', 'outbox.db'));
  const dest = new WebhookDestination({ type: 'webhook', name: 'hook', url: rx.url, secret: 's3cr3t', maxAgeHours: 24, timeoutMs: 1000, ...opts }, { outbox, tuning });
  cleanups.push(async () => {
    await dest.close();
    outbox.close();
  });
  await dest.start();
  return { rx, outbox, dest, dir };
}

let n = 0;
const event = (stream = 's1', type: DeliveryEvent['type'] = 'transcript.segment'): DeliveryEvent => {
  n++;
  return { id: `evt_${stream}_${n}`, type, createdAt: 1_700_000_000_000 + n, stream: { rtmsStreamId: stream, meetingUuid: 'm==', product: 'meeting' }, data: { seq: n, text: `line ${n} “ünïcode”` } };
};

describe('webhook destination: the signed request (ARCHITECTURE.md "Outbound webhooks")', () => {
  it('POSTs the envelope with event id, timestamp (s) and v1 HMAC-SHA256 over "v1:{timestamp}:{raw body}"', async () => {
    const { rx, dest } = await setup();
    const e = event();
    const before = Math.floor(Date.now() / 1000);
    dest.deliver(e);
    await rx.waitFor(() => rx.accepted.length === 1, 5000, 'the event');
    const got = rx.accepted[0];
    assert.equal(rx.badSignatures, 0);
    assert.deepEqual(JSON.parse(got.raw), e, 'the body is the envelope {id,type,createdAt,stream,data}');
    assert.deepEqual(Object.keys(JSON.parse(got.raw)), ['id', 'type', 'createdAt', 'stream', 'data']);
    assert.equal(got.headers['x-openrtms-event-id'], e.id);
    assert.equal(got.headers['content-type'], 'application/json');
    const ts = Number(got.headers['x-openrtms-timestamp']);
    assert.ok(Number.isInteger(ts) && ts >= before && ts <= before + 5, 'seconds, now');
    const expected = 'v1=' + createHmac('sha256', 's3cr3t').update(`v1:${ts}:${got.raw}`).digest('hex');
    assert.equal(got.headers['x-openrtms-signature'], expected);
    assert.ok(verifyWebhookSignature('s3cr3t', ts, got.raw, expected));
    assert.ok(!verifyWebhookSignature('other', ts, got.raw, expected));
    assert.ok(!verifyWebhookSignature('s3cr3t', ts + 1, got.raw, expected));
    assert.equal(signWebhook('k', 1, 'b'), 'v1=' + createHmac('sha256', 'k').update('v1:1:b').digest('hex'));
  });
});

/** A destination on an existing receiver, with the outbox of `dir`. */
async function setupDest(rx: Receiver, tuning: WebhookTuning = fast, opts: Partial<WebhookDestinationConfig> = {}, dir = tmp()) {
  const outbox = new Outbox(join(dir, 'outbox.db'));
  const dest = new WebhookDestination({ type: 'webhook', name: 'hook', url: rx.url, secret: rx.secret, maxAgeHours: 24, timeoutMs: 1000, ...opts }, { outbox, tuning });
  cleanups.push(async () => {
    await dest.close();
    outbox.close();
  });
  await dest.start();
  return dest;
}

describe('webhook destination: retries, order, durability', () => {
  it('500s, dropped connections, a slow answer past the timeout: retried until delivered, per-stream order kept, streams in parallel', async () => {
    const { rx, dest } = await setup({ timeoutMs: 200 });
    rx.behaviour = 'fail';
    const sent: Record<string, string[]> = { a: [], b: [], c: [] };
    for (let i = 0; i < 10; i++) for (const s of ['a', 'b', 'c']) {
      const e = event(s);
      sent[s].push(e.id);
      dest.deliver(e);
    }
    assert.equal(dest.stats().queued, 30, 'queued durably before deliver() returned');
    await rx.waitFor(() => rx.requests >= 6, 3000, 'some failed attempts');
    rx.behaviour = 'down';
    await new Promise((r) => setTimeout(r, 200));
    rx.behaviour = 'hang';
    await new Promise((r) => setTimeout(r, 400));
    rx.behaviour = 'slow';
    rx.slowMs = 20;
    await rx.waitFor(() => rx.ids().size === 30, 10_000, 'all 30 events');
    for (const s of ['a', 'b', 'c']) {
      assert.deepEqual(rx.unique().filter((r) => r.stream.rtmsStreamId === s).map((r) => r.id), sent[s], `stream ${s} in order`);
    }
    await rx.waitFor(() => dest.stats().queued === 0, 2000, 'the last answer to be recorded');
    const st = dest.stats();
    assert.equal(st.queued, 0);
    assert.equal(st.failed, 0);
    assert.ok(st.retried >= 6, `retried ${st.retried}`);
    assert.equal(st.lagMs, 0);
    // Only a request that timed out but was still answered later may come twice (at-least-once).
    assert.ok(rx.accepted.length - 30 <= 3, `duplicates: ${rx.accepted.length - 30}`);
  });

  it('the outbox survives the process: pending events are sent after a restart, with the same ids; a re-sent id is not queued twice', async () => {
    const dir = tmp();
    const rx = new Receiver('s3cr3t');
    await rx.listen();
    cleanups.push(() => rx.close());
    rx.behaviour = 'fail';
    const outbox1 = new Outbox(join(dir, 'outbox.db'));
    const d1 = new WebhookDestination({ type: 'webhook', name: 'hook', url: rx.url, secret: 's3cr3t', maxAgeHours: 24, timeoutMs: 500 }, { outbox: outbox1, tuning: fast });
    await d1.start();
    const events = Array.from({ length: 5 }, () => event('x'));
    for (const e of events) d1.deliver(e);
    d1.deliver(events[0]);
    await d1.close();
    outbox1.close();
    rx.behaviour = 'ok';
    const d2 = await setupDest(rx, fast, {}, dir);
    await rx.waitFor(() => rx.ids().size === 5, 5000, 'the 5 events after the restart');
    assert.deepEqual(rx.unique().map((r) => r.id), events.map((e) => e.id));
    assert.equal(rx.accepted.length, 5, 'no duplicate');
    d2.deliver(events[1]); // delivered already: the outbox remembers its id
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(rx.accepted.length, 5);
  });

  it('an event still failing after maxAge is a dead letter; replay delivers it; the stream behind it is not blocked', async () => {
    const { rx, dest } = await setup({ maxAgeHours: 0.4 / 3600, timeoutMs: 2000 }); // 400 ms
    rx.behaviour = 'fail';
    const dead = event('d');
    dest.deliver(dead);
    await new Promise((r) => setTimeout(r, 700));
    rx.behaviour = 'ok';
    const next = event('d');
    dest.deliver(next);
    await rx.waitFor(() => rx.ids().has(next.id), 3000, 'the next event of the stream');
    assert.ok(!rx.ids().has(dead.id));
    const letters = dest.deadLetters();
    assert.equal(letters.length, 1);
    assert.equal(letters[0].id, dead.id);
    assert.equal(letters[0].lastError, 'HTTP 500');
    assert.ok(letters[0].attempts >= 1);
    assert.equal(dest.stats().failed, 1);
    assert.equal(dest.replay(['evt_unknown']), 0);
    assert.equal(dest.replay([dead.id]), 1);
    await rx.waitFor(() => rx.ids().has(dead.id), 3000, 'the replayed dead letter');
    assert.deepEqual(JSON.parse(rx.accepted.find((r) => r.id === dead.id)!.raw), dead, 'the same event, createdAt unchanged');
    assert.equal(dest.deadLetters().length, 0);
    assert.equal(dest.stats().failed, 0);
  });
});
