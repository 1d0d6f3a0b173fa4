/**
 * Signatures: the RTMS handshake signature and Zoom's webhook signature scheme.
 * Pure functions over node:crypto; no I/O.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Handshake signature: hex HMAC-SHA256, keyed with the client secret, over
 * `"{clientId},{meetingUuid | sessionId | engagementId},{rtmsStreamId}"`.
 * Webinars still use `meeting_uuid`; Video SDK apps use the SDK key and secret.
 */
export function rtmsSignature(clientId: string, clientSecret: string, meetingOrSessionId: string, streamId: string): string {
  return createHmac('sha256', clientSecret).update(`${clientId},${meetingOrSessionId},${streamId}`).digest('hex');
}

/** Constant-time comparison of two hex (or any ASCII) strings. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** `x-zm-signature` value for a webhook body: `v0=` + hex HMAC-SHA256(secretToken, `v0:{ts}:{body}`). */
export function webhookSignature(secretToken: string, timestampSeconds: string | number, rawBody: string | Buffer): string {
  const h = createHmac('sha256', secretToken);
  h.update(`v0:${timestampSeconds}:`);
  h.update(rawBody);
  return `v0=${h.digest('hex')}`;
}

/** Headers Zoom sends with a webhook: signature and request timestamp (seconds). */
export function signWebhook(secretToken: string, rawBody: string | Buffer, nowMs = Date.now()): Record<string, string> {
  const ts = Math.floor(nowMs / 1000).toString();
  return {
    'x-zm-request-timestamp': ts,
    'x-zm-signature': webhookSignature(secretToken, ts, rawBody),
  };
}

export type WebhookVerdict = { ok: true } | { ok: false; code: 'WEBHOOK_BAD_SIGNATURE' | 'WEBHOOK_STALE_TIMESTAMP'; reason: string };

/**
 * Verifies a webhook's `x-zm-signature` over the raw body, in constant time, and rejects
 * timestamps outside `toleranceSeconds` of now (replays).
 */
export function verifyWebhook(
  secretToken: string,
  rawBody: string | Buffer,
  signature: string | undefined,
  timestamp: string | undefined,
  options: { nowMs?: number; toleranceSeconds?: number } = {},
): WebhookVerdict {
  if (!signature || !timestamp) {
    return { ok: false, code: 'WEBHOOK_BAD_SIGNATURE', reason: 'missing x-zm-signature or x-zm-request-timestamp header' };
  }
  const ts = Number(timestamp);
  if (!Number.isFinite(ts)) {
    return { ok: false, code: 'WEBHOOK_STALE_TIMESTAMP', reason: 'x-zm-request-timestamp is not a number' };
  }
  const now = (options.nowMs ?? Date.now()) / 1000;
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(now - ts) > tolerance) {
    return { ok: false, code: 'WEBHOOK_STALE_TIMESTAMP', reason: `timestamp is more than ${tolerance}s from now` };
  }
  const expected = webhookSignature(secretToken, timestamp, rawBody);
  return safeEqual(expected, signature) ? { ok: true } : { ok: false, code: 'WEBHOOK_BAD_SIGNATURE', reason: 'signature mismatch' };
}

/** Answer to Zoom's `endpoint.url_validation` challenge. */
export function urlValidationResponse(secretToken: string, plainToken: string): { plainToken: string; encryptedToken: string } {
  return { plainToken, encryptedToken: createHmac('sha256', secretToken).update(plainToken).digest('hex') };
}
