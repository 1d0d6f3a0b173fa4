/**
 * The webhook endpoint's logic, independent of any HTTP framework: verify Zoom's signature,
 * answer the URL validation challenge, classify RTMS events and suppress duplicates. The caller
 * sends the returned answer at once and only then acts on `event` (Zoom retries slow answers).
 */
import { classifyEvent, payloadId, rtmsPayloadSchema, urlValidationResponse, urlValidationSchema, webhookBodySchema, URL_VALIDATION_EVENT, type Product, type RtmsLifecycle, type RtmsWebhookPayload } from '../protocol/index.js';
import { StreamLedger } from './ledger.js';
import { matchApp, productMismatch, type WebhookApp } from './apps.js';
import { classifyAlertEvent } from '../alerts/events.js';
import type { FailureKind } from '../alerts/guidance.js';

export interface StreamEvent {
  lifecycle: RtmsLifecycle;
  product: Product;
  event: string;
  rtmsStreamId: string;
  /** meeting_uuid / webinar_uuid, session_id, engagement_id or call_id. */
  meetingUuid: string;
  payload: RtmsWebhookPayload & { server_urls?: string };
  /** The webhook's `event_ts` (ms), when it had one. */
  eventTs?: number;
  /**
   * A start for a stream already live, with new `server_urls`: Zoom moved it to another RTMS server
   * after a failure; the client reconnects there (not a second client).
   */
  failover?: boolean;
  /** Name of the configured app whose secret token signed the webhook (multi-app servers). */
  app?: string;
}

/** A verified Zoom alert webhook (rtms.start_failed, rtms.concurrency_limited...), answered 200. */
export interface AlertWebhook {
  event: string;
  kind: FailureKind;
  /** The product its event name's prefix names, if any. */
  product?: string;
  payload: unknown;
  app: string;
  /** What went wrong, when the handler knows better than the event name. */
  message?: string;
}

export interface WebhookOutcome {
  status: number;
  body: Record<string, unknown>;
  /** Work to do after answering (absent for duplicates, unknown events and errors). */
  event?: StreamEvent;
  /** Why nothing is to be done, for logs and metrics. */
  note?: 'duplicate' | 'after-stop' | 'unknown-event' | 'url-validation' | 'rejected' | 'alert';
  /** A Zoom alert webhook to report (after answering). */
  alert?: AlertWebhook;
}

export interface WebhookHandlerOptions {
  /** The one app's secret token (every product). Ignored when `apps` is given. */
  secretToken?: string;
  /** Several apps: a webhook belongs to the first whose secret token signed it, and must be for one of its products. */
  apps?: readonly WebhookApp[];
  /** Accepted clock skew of x-zm-request-timestamp, seconds. Default 300. */
  toleranceSeconds?: number;
  /**
   * Suppresses duplicates and starts after stops. `false` passes every verified event on (a cluster
   * gateway: JetStream and the streams bucket de-duplicate across all gateways instead).
   */
  ledger?: StreamLedger | false;
}

const error = (status: number, code: string, message: string): WebhookOutcome => ({ status, body: { error: { code, message } }, note: 'rejected' });

export function createWebhookHandler(options: WebhookHandlerOptions) {
  const ledger = options.ledger === false ? undefined : (options.ledger ?? new StreamLedger());
  const apps: readonly WebhookApp[] = options.apps ?? [{ name: 'default', products: ['*'], secretToken: options.secretToken ?? '' }];
  return function handle(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): WebhookOutcome {
    const header = (name: string) => {
      const v = headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const verdict = matchApp(apps, rawBody, header('x-zm-signature'), header('x-zm-request-timestamp'), { toleranceSeconds: options.toleranceSeconds });
    if (!verdict.ok) return error(401, verdict.code, verdict.reason);
    const app = verdict.app;
    let body: unknown;
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return error(400, 'WEBHOOK_BAD_JSON', 'body is not valid JSON');
    }
    const issue = webhookBodySchema.check(body, '');
    if (issue) return error(400, 'WEBHOOK_BAD_BODY', `field "${issue.path}" expected ${issue.expected}, got ${issue.received}`);
    const { event, payload, event_ts: eventTs } = body as { event: string; payload?: unknown; event_ts?: unknown };
    if (event === URL_VALIDATION_EVENT) {
      const p = urlValidationSchema.check(payload, 'payload');
      if (p) return error(400, 'WEBHOOK_BAD_BODY', `field "${p.path}" expected ${p.expected}`);
      // Answered with the token of the app whose signature matched: each app validates its own URL.
      return { status: 200, body: urlValidationResponse(app.secretToken, (payload as { plainToken: string }).plainToken), note: 'url-validation' };
    }
    const alert = classifyAlertEvent(event);
    if (alert) return { status: 200, body: { ok: true }, note: 'alert', alert: { event, kind: alert.kind, ...(alert.product ? { product: alert.product } : {}), payload, app: app.name } };
    const kind = classifyEvent(event);
    if (kind && !app.products.includes('*') && !app.products.includes(kind.product)) {
      const message = productMismatch(app, event, kind.product);
      return { ...error(403, 'WEBHOOK_APP_MISMATCH', message), alert: { event, kind: 'WEBHOOK_APP_MISMATCH', product: kind.product, payload, app: app.name, message } };
    }
    if (!kind) return { status: 200, body: { ok: true, ignored: event }, note: 'unknown-event' };
    const p = rtmsPayloadSchema.check(payload, 'payload');
    if (p) return error(400, 'WEBHOOK_BAD_BODY', `field "${p.path}" expected ${p.expected}, got ${p.received}`);
    const rtms = payload as StreamEvent['payload'];
    const meetingUuid = payloadId(rtms);
    if (!meetingUuid) return error(400, 'WEBHOOK_BAD_BODY', 'payload has no meeting_uuid, webinar_uuid, session_id, engagement_id or call_id');
    if (kind.lifecycle === 'started' && !rtms.server_urls) return error(400, 'WEBHOOK_BAD_BODY', 'rtms_started payload has no server_urls');
    const streamEvent: StreamEvent = { ...kind, event, rtmsStreamId: rtms.rtms_stream_id, meetingUuid, payload: rtms, ...(typeof eventTs === 'number' ? { eventTs } : {}), ...(options.apps ? { app: app.name } : {}) };
    if (!ledger) return { status: 200, body: { ok: true }, event: streamEvent };
    if (kind.lifecycle === 'started') {
      const verdict = ledger.start(rtms.rtms_stream_id, rtms.server_urls);
      if (verdict === 'duplicate' || verdict === 'after-stop') return { status: 200, body: { ok: true }, note: verdict };
      if (verdict === 'server-failover') streamEvent.failover = true;
    } else if (kind.lifecycle === 'stopped') {
      const reason = typeof rtms.stop_reason === 'number' ? rtms.stop_reason : undefined;
      if (!ledger.stop(rtms.rtms_stream_id, reason)) return { status: 200, body: { ok: true }, note: 'duplicate' };
    }
    return { status: 200, body: { ok: true }, event: streamEvent };
  };
}

export type WebhookHandler = ReturnType<typeof createWebhookHandler>;
export { StreamLedger };
