/**
 * RTMS webhook events of every product family, and the join payload the client needs from them.
 */
import { array, nonEmptyStr, object, optional, str, unknownValue, type Infer } from './schema.js';

/** Product families that stream over RTMS. */
export type Product = 'meeting' | 'webinar' | 'session' | 'contact_center' | 'phone';
export const PRODUCTS: readonly Product[] = ['meeting', 'webinar', 'session', 'contact_center', 'phone'];

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
  phone: { started: 'phone.rtms_started', stopped: 'phone.rtms_stopped', interrupted: 'phone.rtms_interrupted' },
};

/** Other names the same events go by (Zoom's library and changelog), mapped to the canonical ones. */
const EVENT_ALIASES: Readonly<Record<string, string>> = {
  'phone.call_rtms_started': 'phone.rtms_started',
  'phone.call_rtms_stopped': 'phone.rtms_stopped',
  'phone.call_rtms_interrupted': 'phone.rtms_interrupted',
  'contactcenter.rtms_started': 'contact_center.voice_rtms_started',
  'contactcenter.rtms_stopped': 'contact_center.voice_rtms_stopped',
  'contactcenter.rtms_interrupted': 'contact_center.voice_rtms_interrupted',
};

/** A payload field that identifies the meeting, webinar, session, engagement or call. */
export type IdField = 'meeting_uuid' | 'webinar_uuid' | 'session_id' | 'engagement_id' | 'call_id';

/**
 * The payload field that identifies the stream's owner in each product. Webinars carry
 * `meeting_uuid` (the seed) and, in today's payloads, `webinar_uuid` too (Zoom's library reads it).
 */
export const ID_FIELD: Readonly<Record<Product, IdField>> = {
  meeting: 'meeting_uuid',
  webinar: 'meeting_uuid',
  session: 'session_id',
  contact_center: 'engagement_id',
  phone: 'call_id',
};

/** The handshake field that carries the id, per product, as Zoom's library sends it (July 2026). */
export const HANDSHAKE_ID_FIELD: Readonly<Record<Product, IdField>> = {
  meeting: 'meeting_uuid',
  webinar: 'webinar_uuid',
  session: 'session_id',
  contact_center: 'engagement_id',
  phone: 'call_id',
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
  return EVENT_INDEX.get(EVENT_ALIASES[event] ?? event);
}

export const rtmsPayloadSchema = object(
  {
    meeting_uuid: optional(str()),
    webinar_uuid: optional(str()),
    session_id: optional(str()),
    engagement_id: optional(str()),
    call_id: optional(str()),
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
  /** meeting_uuid / webinar_uuid, session_id (Video SDK), engagement_id or session_id (Contact Center), call_id (Phone). */
  meetingUuid: string;
  rtmsStreamId: string;
  /** Signaling URL (`server_urls` of the webhook). */
  serverUrls: string;
  operatorId?: string;
}

/** The id fields a payload may carry. */
export type PayloadIds = Partial<Record<IdField, string>>;

/** Picks the id of whichever product the payload belongs to. */
export function payloadId(p: PayloadIds): string | undefined {
  return p.meeting_uuid || p.webinar_uuid || p.session_id || p.engagement_id || p.call_id || undefined;
}

/** Which product a bare payload belongs to, from its id field. */
export function productOfPayload(p: PayloadIds): Product {
  if (p.meeting_uuid) return 'meeting';
  if (p.webinar_uuid) return 'webinar';
  if (p.session_id) return 'session';
  if (p.call_id) return 'phone';
  return 'contact_center';
}
