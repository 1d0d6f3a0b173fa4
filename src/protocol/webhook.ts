/**
 * RTMS webhook events of every product family, and the join payload the client needs from them.
 */
import { array, nonEmptyStr, object, optional, str, unknownValue, type Infer } from './schema.js';

/** Product families that stream over RTMS. */
export type Product = 'meeting' | 'webinar' | 'session' | 'contact_center';
export const PRODUCTS: readonly Product[] = ['meeting', 'webinar', 'session', 'contact_center'];

/** What an RTMS webhook announces. */
export type RtmsLifecycle = 'started' | 'stopped' | 'interrupted';

/** Event names per product and lifecycle step. */
export const WEBHOOK_EVENTS: Readonly<Record<Product, Readonly<Record<RtmsLifecycle, string>>>> = {
  meeting: { started: 'meeting.rtms_started', stopped: 'meeting.rtms_stopped', interrupted: 'meeting.rtms_interrupted' },
  webinar: { started: 'webinar.rtms_started', stopped: 'webinar.rtms_stopped', interrupted: 'webinar.rtms_interrupted' },
  session: { started: 'session.rtms_started', stopped: 'session.rtms_stopped', interrupted: 'session.rtms_interrupted' },
  contact_center: {
    started: 'contact_center.voice_rtms_started',
    stopped: 'contact_center.voice_rtms_stopped',
    interrupted: 'contact_center.voice_rtms_interrupted',
  },
};

/** The payload field that identifies the meeting/session/engagement in each product. */
export const ID_FIELD: Readonly<Record<Product, 'meeting_uuid' | 'session_id' | 'engagement_id'>> = {
  meeting: 'meeting_uuid',
  webinar: 'meeting_uuid',
  session: 'session_id',
  contact_center: 'engagement_id',
};

export const URL_VALIDATION_EVENT = 'endpoint.url_validation';

const EVENT_INDEX = new Map<string, { product: Product; lifecycle: RtmsLifecycle }>();
for (const product of PRODUCTS) {
  for (const lifecycle of ['started', 'stopped', 'interrupted'] as const) {
    EVENT_INDEX.set(WEBHOOK_EVENTS[product][lifecycle], { product, lifecycle });
  }
}

/** Classifies a webhook event name; undefined for events that are not RTMS lifecycle events. */
export function classifyEvent(event: string): { product: Product; lifecycle: RtmsLifecycle } | undefined {
  return EVENT_INDEX.get(event);
}

export const rtmsPayloadSchema = object(
  {
    meeting_uuid: optional(str()),
    session_id: optional(str()),
    engagement_id: optional(str()),
    rtms_stream_id: nonEmptyStr(),
    server_urls: optional(str()),
    operator_id: optional(str()),
    stop_reason: optional(unknownValue()),
  },
  'RTMS webhook payload',
);
export const webhookBodySchema = object(
  { event: nonEmptyStr(), event_ts: optional(unknownValue()), payload: optional(unknownValue()) },
  'webhook body',
);
export const urlValidationSchema = object({ plainToken: nonEmptyStr() }, 'url_validation payload');
export const stringList = array(str());

export type RtmsWebhookPayload = Infer<typeof rtmsPayloadSchema>;

/** Everything a client needs to join a stream, normalised across products. */
export interface JoinPayload {
  product: Product;
  /** meeting_uuid (meetings, webinars), session_id (Video SDK) or engagement_id (Contact Center). */
  meetingUuid: string;
  rtmsStreamId: string;
  /** Signaling URL (`server_urls` of the webhook). */
  serverUrls: string;
  operatorId?: string;
}

/** Picks the id of whichever product the payload belongs to. */
export function payloadId(p: { meeting_uuid?: string; session_id?: string; engagement_id?: string }): string | undefined {
  return p.meeting_uuid || p.session_id || p.engagement_id || undefined;
}

/** Which product a bare payload belongs to, from its id field (webinars look like meetings). */
export function productOfPayload(p: { meeting_uuid?: string; session_id?: string; engagement_id?: string }): Product {
  if (p.meeting_uuid) return 'meeting';
  if (p.session_id) return 'session';
  return 'contact_center';
}
