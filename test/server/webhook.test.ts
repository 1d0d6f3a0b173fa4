import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWebhookHandler } from '../../src/webhook/handler.js';
import { PRODUCTS, WEBHOOK_EVENTS, ID_FIELD, signWebhook, urlValidationResponse } from '../../src/protocol/index.js';

const TOKEN = 'secret-token';
function signed(body: unknown, token = TOKEN, now = Date.now()) {
  const raw = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return { raw, headers: signWebhook(token, raw, now) };
}
const start = (id = 's1', product: (typeof PRODUCTS)[number] = 'meeting') => ({
  event: WEBHOOK_EVENTS[product].started,
  event_ts: 1,
  payload: { [ID_FIELD[product]]: 'm/1+=', rtms_stream_id: id, server_urls: 'wss://x/signaling', operator_id: 'op' },
});
const stop = (id = 's1', product: (typeof PRODUCTS)[number] = 'meeting') => ({ event: WEBHOOK_EVENTS[product].stopped, event_ts: 2, payload: { [ID_FIELD[product]]: 'm/1+=', rtms_stream_id: id } });

describe('webhook handler', () => {
  it('accepts a signed start for every product family', () => {
    const handle = createWebhookHandler({ secretToken: TOKEN });
    for (const product of PRODUCTS) {
      const { raw, headers } = signed(start(`s-${product}`, product));
      const out = handle(raw, headers);
      assert.equal(out.status, 200);
      assert.equal(out.event?.product, product);
      assert.equal(out.event?.lifecycle, 'started');
      assert.equal(out.event?.meetingUuid, 'm/1+=');
    }
  });
  it('rejects bad, missing and stale signatures with 401', () => {
    const handle = createWebhookHandler({ secretToken: TOKEN });
    const bad = signed(start(), 'other-token');
    assert.equal(handle(bad.raw, bad.headers).status, 401);
    assert.equal(handle(Buffer.from('{}'), {}).status, 401);
    const stale = signed(start(), TOKEN, Date.now() - 6 * 60_000);
    const out = handle(stale.raw, stale.headers);
    assert.equal(out.status, 401);
    assert.equal((out.body.error as { code: string }).code, 'WEBHOOK_STALE_TIMESTAMP');
  });
  it('answers endpoint.url_validation', () => {
    const handle = createWebhookHandler({ secretToken: TOKEN });
    const { raw, headers } = signed({ event: 'endpoint.url_validation', payload: { plainToken: 'abc' } });
    assert.deepEqual(handle(raw, headers).body, urlValidationResponse(TOKEN, 'abc'));
  });
  it('400 for malformed JSON or payloads, 200 for unknown events', () => {
    const handle = createWebhookHandler({ secretToken: TOKEN });
    const junk = signed('{"event":');
    assert.equal(handle(junk.raw, junk.headers).status, 400);
    const noStream = signed({ event: 'meeting.rtms_started', payload: { meeting_uuid: 'm' } });
    assert.match(String((handle(noStream.raw, noStream.headers).body.error as { message: string }).message), /rtms_stream_id/);
    const unknown = signed({ event: 'meeting.participant_joined', payload: {} });
    const out = handle(unknown.raw, unknown.headers);
    assert.equal(out.status, 200);
    assert.equal(out.note, 'unknown-event');
  });
  it('suppresses duplicates and a start that arrives after its stop', () => {
    const handle = createWebhookHandler({ secretToken: TOKEN });
    const send = (b: unknown) => {
      const { raw, headers } = signed(b);
      return handle(raw, headers);
    };
    assert.ok(send(start()).event);
    assert.equal(send(start()).note, 'duplicate');
    assert.equal(send(start()).note, 'duplicate');
    assert.ok(send(stop()).event);
    assert.equal(send(stop()).note, 'duplicate');
    const late = send(start());
    assert.equal(late.status, 200);
    assert.equal(late.event, undefined);
    assert.equal(late.note, 'after-stop');
  });
});
