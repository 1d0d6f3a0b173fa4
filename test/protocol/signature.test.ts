import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rtmsSignature, signWebhook, urlValidationResponse, verifyWebhook, webhookSignature } from '../../src/protocol/index.js';

// Expected values computed independently with `openssl dgst -sha256 -hmac`.
describe('handshake signature', () => {
  it('is hex HMAC-SHA256(secret, "clientId,meetingUuid,streamId")', () => {
    assert.equal(
      rtmsSignature('my_client_id', 'my_client_secret', '4444AAAiAAAAAiAiAiiAii==', '609340fc2c3e4c2b9c2d3f8a1f0e6b7d'),
      '72d6a98f833300c77aaff5424d80072fc538ae989c922e83c8b3097dc31b2b22',
    );
  });
  it('changes with every input', () => {
    const base = rtmsSignature('a', 's', 'm', 'x');
    assert.notEqual(rtmsSignature('b', 's', 'm', 'x'), base);
    assert.notEqual(rtmsSignature('a', 't', 'm', 'x'), base);
    assert.notEqual(rtmsSignature('a', 's', 'n', 'x'), base);
    assert.notEqual(rtmsSignature('a', 's', 'm', 'y'), base);
  });
});

describe('webhook signature (v0 scheme)', () => {
  const body = '{"event":"meeting.rtms_started"}';
  it('matches HMAC-SHA256(token, "v0:{ts}:{body}")', () => {
    assert.equal(webhookSignature('secret_token', 1737000000, body), 'v0=3e550ce52c23775209f46e6e509f199dcc19ed9c9bd9f4f93cb7650efd882028');
  });
  it('verifies what signWebhook produces and rejects tampering', () => {
    const now = 1_737_000_000_000;
    const h = signWebhook('secret_token', body, now);
    assert.deepEqual(verifyWebhook('secret_token', body, h['x-zm-signature'], h['x-zm-request-timestamp'], { nowMs: now }), { ok: true });
    const tampered = verifyWebhook('secret_token', body + ' ', h['x-zm-signature'], h['x-zm-request-timestamp'], { nowMs: now });
    assert.equal(tampered.ok, false);
    const wrongKey = verifyWebhook('other', body, h['x-zm-signature'], h['x-zm-request-timestamp'], { nowMs: now });
    assert.equal(wrongKey.ok, false);
  });
  it('rejects stale timestamps (replay) and missing headers', () => {
    const now = 1_737_000_000_000;
    const h = signWebhook('secret_token', body, now - 301_000);
    const v = verifyWebhook('secret_token', body, h['x-zm-signature'], h['x-zm-request-timestamp'], { nowMs: now });
    assert.deepEqual(v.ok ? null : v.code, 'WEBHOOK_STALE_TIMESTAMP');
    const missing = verifyWebhook('secret_token', body, undefined, undefined, { nowMs: now });
    assert.deepEqual(missing.ok ? null : missing.code, 'WEBHOOK_BAD_SIGNATURE');
  });
  it('answers endpoint.url_validation with the HMAC of plainToken', () => {
    assert.deepEqual(urlValidationResponse('secret_token', 'qgg8vlvZRS6UYooatFL8Aw'), {
      plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
      encryptedToken: '0abd212d4653d125d6cbf403b3f529f1804ffabd9578aabfd1af0e4b2b1701f2',
    });
  });
});
