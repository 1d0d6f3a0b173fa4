/**
 * Webhook verification against several apps: each configured app has its own secret token, and a
 * webhook belongs to the first app whose token reproduces its signature. Each comparison is
 * constant-time (verifyWebhook); the order of apps is the config file's.
 */
import { verifyWebhook, type WebhookVerdict } from '../protocol/index.js';

/** What the webhook endpoint knows of an app: its name, its products and its secret token. */
export interface WebhookApp {
  name: string;
  products: readonly string[];
  secretToken: string;
}

export type AppVerdict = { ok: true; app: WebhookApp } | Extract<WebhookVerdict, { ok: false }>;

/** The app whose secret token signed the body, or why none did. */
export function matchApp(
  apps: readonly WebhookApp[],
  rawBody: Buffer,
  signature: string | undefined,
  timestamp: string | undefined,
  options: { toleranceSeconds?: number; nowMs?: number } = {},
): AppVerdict {
  let last: AppVerdict = { ok: false, code: 'WEBHOOK_BAD_SIGNATURE', reason: 'no app is configured to receive webhooks' };
  for (const app of apps) {
    const verdict = verifyWebhook(app.secretToken, rawBody, signature, timestamp, options);
    if (verdict.ok) return { ok: true, app };
    // Missing headers or a stale timestamp fail the same way for every app.
    if (verdict.reason !== 'signature mismatch') return verdict;
    last = verdict;
  }
  if (apps.length > 1 && !last.ok) return { ...last, reason: `signature matches none of the ${apps.length} configured apps' secret tokens` };
  return last;
}

/** The error text of a webhook verified by an app that does not serve its product. */
export function productMismatch(app: WebhookApp, event: string, product: string): string {
  return `"${event}" was signed with the secret token of app "${app.name}", which serves ${app.products.join(', ')} only: the webhook was signed with another app's secret token, so check which app this product's webhook comes from (or add "${product}" to that app's products)`;
}
