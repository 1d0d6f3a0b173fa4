/**
 * Zoom's alert webhooks: `rtms.start_failed`, `rtms.concurrency_limited` and
 * `rtms.concurrency_near_limit` (Zoom's WebhookManager logs them as critical). Product-prefixed
 * spellings (`meeting.rtms_start_failed`, ...) are accepted too, since Zoom names other RTMS events
 * per product. Pure.
 */
import type { FailureKind } from './guidance.js';

const KINDS: Record<string, FailureKind> = {
  start_failed: 'RTMS_START_FAILED',
  concurrency_limited: 'RTMS_CONCURRENCY_LIMITED',
  concurrency_near_limit: 'RTMS_CONCURRENCY_NEAR_LIMIT',
};
const PATTERN = /^(?:rtms\.|(meeting|webinar|session|contact_center|phone)\.(?:voice_|call_)?rtms_)(start_failed|concurrency_limited|concurrency_near_limit)$/;

/** The alert kind of a webhook event name, and the product its prefix names; undefined for other events. */
export function classifyAlertEvent(event: string): { kind: FailureKind; product?: string } | undefined {
  const m = PATTERN.exec(event);
  if (!m) return undefined;
  return { kind: KINDS[m[2]], ...(m[1] ? { product: m[1] } : {}) };
}
