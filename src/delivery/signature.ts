/** The signature of outbound webhooks (ARCHITECTURE.md "Outbound webhooks"). Pure. */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** `v1=<hex HMAC-SHA256(secret, "v1:{timestamp}:{raw body}")>`, timestamp in seconds. */
export function signWebhook(secret: string, timestampSeconds: number, rawBody: string): string {
  return `v1=${createHmac('sha256', secret).update(`v1:${timestampSeconds}:${rawBody}`).digest('hex')}`;
}

/** Checks a signature header in constant time (for receivers and tests). */
export function verifyWebhookSignature(secret: string, timestampSeconds: string | number, rawBody: string, header: string): boolean {
  const want = Buffer.from(signWebhook(secret, Number(timestampSeconds), rawBody));
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}
