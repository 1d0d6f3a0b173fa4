/**
 * Guidance for failures: likely causes and fixes in plain words, per RTMS handshake `status_code`
 * (keyed by number, as Zoom's helper library RTMSManager lists them in 2026: PROTOCOL.md §4) and per
 * failure kind (webhook and REST API problems, Zoom's alert webhooks). Pure data and lookups.
 */

export type GuidanceCategory = 'success' | 'auth' | 'stream' | 'request' | 'media' | 'connection' | 'server' | 'config' | 'limit';

export interface Guidance {
  /** Short title, e.g. `INVALID_SIGNATURE`. */
  name: string;
  category: GuidanceCategory;
  causes: string[];
  fixes: string[];
}

/** Causes and fixes shared by every status of a category. */
const BY_CATEGORY: Record<GuidanceCategory, Pick<Guidance, 'causes' | 'fixes'>> = {
  success: { causes: [], fixes: [] },
  auth: {
    causes: [
      'the client secret does not belong to the client id (or was regenerated in the Marketplace)',
      'the stream belongs to another app than the credentials used to join it',
      'Video SDK streams need the SDK key and secret, not the OAuth client id and secret',
    ],
    fixes: [
      'copy the client id and secret again from the app\'s page in the Zoom Marketplace (no spaces around them)',
      'in openrtms.config.json, list each product under the app that streams it, with that app\'s own credentials',
      'for Video SDK sessions, configure the SDK key/secret as clientId/clientSecret of the app serving "session"',
    ],
  },
  stream: {
    causes: ['the stream has already stopped', 'the rtms_stream_id or meeting id is not the one from the current webhook'],
    fixes: ['join with the ids of the latest rtms_started webhook', 'treat rtms_stopped as the end of the stream; do not reconnect after it'],
  },
  request: {
    causes: ['the request sent to Zoom has a missing or invalid field', 'the media parameters are not allowed for this product or codec'],
    fixes: ['check the requested media parameters against Zoom\'s media parameter definitions (OPENRTMS_MEDIA selects kinds)', 'update openrtms: the protocol may have changed'],
  },
  media: {
    causes: ['this product or meeting does not offer the requested media type (e.g. video in a Contact Center call)'],
    fixes: ['ask only for the media types this product carries (OPENRTMS_MEDIA)'],
  },
  connection: {
    causes: ['another connection for the same stream is still open or closing', 'Zoom retried a start webhook while the first connection was still starting'],
    fixes: ['run one receiver per stream (openrtms does; check no second deployment receives the same webhooks)', 'answer webhooks at once so Zoom does not retry them'],
  },
  server: {
    causes: ['a temporary problem on Zoom\'s side'],
    fixes: ['retry later; check https://status.zoom.us'],
  },
  config: { causes: [], fixes: [] },
  limit: {
    causes: ['the account reached its number of concurrent RTMS streams'],
    fixes: ['end streams that are no longer needed, or ask Zoom to raise the account\'s RTMS concurrency'],
  },
};

/** [name, category] per status number (RTMSManager 2026 table; 44 and 45 are not assigned there). */
const STATUS: Record<number, [string, GuidanceCategory]> = {
  0: ['SUCCESS', 'success'],
  1: ['INVALID_MESSAGE_TYPE', 'request'],
  2: ['INVALID_RTMS_STREAM_ID', 'stream'],
  3: ['INVALID_SIGNATURE', 'auth'],
  4: ['INVALID_PAYLOAD', 'request'],
  5: ['INVALID_EVENTS', 'request'],
  6: ['INVALID_EVENT_TYPE', 'request'],
  7: ['INVALID_MEDIA_TYPE', 'request'],
  8: ['DUPLICATE_SIGNAL_REQUEST', 'connection'],
  9: ['MEDIA_TYPE_AUDIO_NOT_SUPPORT', 'media'],
  10: ['MEDIA_TYPE_VIDEO_NOT_SUPPORT', 'media'],
  11: ['MEDIA_TYPE_DESKSHARE_NOT_SUPPORT', 'media'],
  12: ['MEDIA_TYPE_TRANSCRIPT_NOT_SUPPORT', 'media'],
  13: ['MEDIA_TYPE_CHAT_NOT_SUPPORT', 'media'],
  14: ['MEDIA_TYPE_INVALID_VALUE', 'request'],
  15: ['MEDIA_DATA_ALL_CONNECTION_EXIST', 'connection'],
  16: ['DUPLICATE_MEDIA_DATA_CONNECTION', 'connection'],
  17: ['INVALID_MEDIA_PARAMS', 'request'],
  18: ['INVALID_MEDIA_AUDIO_PARAMS', 'request'],
  19: ['INVALID_MEDIA_AUDIO_CONTENT_TYPE', 'request'],
  20: ['INVALID_MEDIA_AUDIO_SAMPLE_RATE', 'request'],
  21: ['INVALID_MEDIA_AUDIO_CHANNEL', 'request'],
  22: ['INVALID_MEDIA_AUDIO_CODEC', 'request'],
  23: ['INVALID_MEDIA_AUDIO_DATA_OPT', 'request'],
  24: ['INVALID_MEDIA_AUDIO_SEND_RATE', 'request'],
  25: ['INVALID_MEDIA_VIDEO_PARAMS', 'request'],
  26: ['INVALID_MEDIA_VIDEO_CONTENT_TYPE', 'request'],
  27: ['INVALID_MEDIA_VIDEO_CODEC', 'request'],
  28: ['INVALID_MEDIA_VIDEO_RESOLUTION', 'request'],
  29: ['INVALID_MEDIA_VIDEO_DATA_OPT', 'request'],
  30: ['INVALID_MEDIA_VIDEO_FPS', 'request'],
  31: ['INVALID_MEDIA_DESKSHARE_PARAMS', 'request'],
  32: ['INVALID_MEDIA_DESKSHARE_CONTENT_TYPE', 'request'],
  33: ['INVALID_MEDIA_DESKSHARE_CODEC', 'request'],
  34: ['INVALID_MEDIA_DESKSHARE_RESOLUTION', 'request'],
  35: ['INVALID_MEDIA_DESKSHARE_FPS', 'request'],
  36: ['INVALID_MEDIA_TRANSCRIPT_PARAMS', 'request'],
  37: ['INVALID_MEDIA_TRANSCRIPT_CONTENT_TYPE', 'request'],
  38: ['INVALID_MEDIA_CHAT_PARAMS', 'request'],
  39: ['INVALID_MEDIA_CHAT_CONTENT_TYPE', 'request'],
  40: ['INVALID_RTMS_SESSION_ID', 'stream'],
  41: ['INVALID_CLIENT_READY_ACK', 'request'],
  42: ['INVALID_EVENT_SUBSCRIBE', 'request'],
  43: ['INVALID_MEDIA_TRANSCRIPT_SOURCE_LANGUAGE', 'request'],
  46: ['INVALID_MEDIA_TRANSCRIPT_TARGET_LANGUAGE', 'request'],
  47: ['CHAT_SESSION_KEY_NOT_AVAILABLE', 'server'],
};

/** Extra words for single statuses, in front of their category's. */
const STATUS_EXTRA: Record<number, Pick<Guidance, 'causes' | 'fixes'>> = {
  8: {
    causes: ['the previous signaling socket of this stream had not finished closing'],
    fixes: ['nothing, usually: Zoom\'s library retries a first handshake answered 8 after 1.5 s (doubling, 3 times)'],
  },
  14: { causes: ['media_type is not a valid bitmask (1 audio, 2 video, 4 deskshare, 8 transcript, 16 chat, 32 all)'], fixes: [] },
  29: { causes: ['video data_opt is not supported by this server (single individual video is 4)'], fixes: [] },
  43: { causes: ['src_language is not one of Zoom\'s transcript languages'], fixes: ['use a language number from Zoom\'s data types, or -1 for automatic identification'] },
  46: { causes: ['the transcript target (translation) language is not supported'], fixes: [] },
  47: { causes: ['the meeting\'s chat key was not available yet'], fixes: ['retry the media handshake for chat a little later'] },
};

/** Product-specific words for signature failures. */
function authExtra(product: string | undefined): Pick<Guidance, 'causes' | 'fixes'> {
  if (product === 'session') return { causes: ['Video SDK streams need the SDK key, not the OAuth client id'], fixes: ['use the Video SDK app\'s SDK key and SDK secret for the "session" product'] };
  if (product === 'contact_center' || product === 'phone') return { causes: [`${product === 'phone' ? 'Zoom Phone' : 'Contact Center'} streams may come from a different app than meetings`], fixes: [`configure the app that streams "${product}" with its own client id and secret`] };
  return { causes: [], fixes: [] };
}

function merge(name: string, category: GuidanceCategory, ...parts: Pick<Guidance, 'causes' | 'fixes'>[]): Guidance {
  return { name, category, causes: parts.flatMap((p) => p.causes), fixes: parts.flatMap((p) => p.fixes) };
}

/** The name of a handshake status in Zoom's library table, when it has one. */
export function statusName(status: number): string | undefined {
  return STATUS[status]?.[0];
}

/** Guidance for a handshake `status_code`; `product` adds product-specific words to signature failures. */
export function guidanceForStatus(status: number, product?: string): Guidance {
  const entry = STATUS[status];
  if (!entry) return merge(`STATUS_${status}`, 'server', { causes: [`status ${status} is not in Zoom's published table`], fixes: ['update openrtms; report the status and its reason text if it persists'] });
  const [name, category] = entry;
  return merge(name, category, STATUS_EXTRA[status] ?? { causes: [], fixes: [] }, category === 'auth' ? authExtra(product) : { causes: [], fixes: [] }, BY_CATEGORY[category]);
}

/** Failure kinds that are not a handshake status. */
export type FailureKind =
  | 'RTMS_SIGNATURE_REJECTED'
  | 'RTMS_START_FAILED'
  | 'RTMS_CONCURRENCY_LIMITED'
  | 'RTMS_CONCURRENCY_NEAR_LIMIT'
  | 'WEBHOOK_BAD_SIGNATURE'
  | 'WEBHOOK_APP_MISMATCH'
  | 'ZOOM_API_UNAUTHORIZED'
  | 'ZOOM_API_NOT_FOUND';

const KIND: Record<FailureKind, Guidance> = {
  RTMS_SIGNATURE_REJECTED: merge('SIGNATURE_REJECTED', 'auth', BY_CATEGORY.auth),
  RTMS_START_FAILED: merge('START_FAILED', 'server', {
    causes: [
      'RTMS is not enabled for the account, or the app lacks the RTMS scopes',
      'the host (or an admin setting) did not allow the app to stream',
      'the app\'s start request named a meeting that is not live',
    ],
    fixes: [
      'enable Realtime Media Streams in the account settings and add the RTMS scopes to the app',
      'check the payload\'s reason: it names what Zoom refused',
      'start the stream again once the meeting is live (openrtms control start --meeting ID)',
    ],
  }),
  RTMS_CONCURRENCY_LIMITED: merge('CONCURRENCY_LIMITED', 'limit', BY_CATEGORY.limit),
  RTMS_CONCURRENCY_NEAR_LIMIT: merge('CONCURRENCY_NEAR_LIMIT', 'limit', { causes: ['the account is close to its number of concurrent RTMS streams'], fixes: BY_CATEGORY.limit.fixes }),
  WEBHOOK_BAD_SIGNATURE: merge('BAD_SIGNATURE', 'config', {
    causes: ['the webhook was signed with a secret token no configured app has', 'this secret token belongs to another app, or was regenerated'],
    fixes: ['copy the secret token from the app\'s Features page into that app\'s secretToken (or ZOOM_SECRET_TOKEN)'],
  }),
  WEBHOOK_APP_MISMATCH: merge('APP_MISMATCH', 'config', {
    causes: ['this secret token belongs to another app: the webhook was signed with another app\'s secret token'],
    fixes: ['check which app this product\'s webhook comes from, and list the product under that app in openrtms.config.json'],
  }),
  ZOOM_API_UNAUTHORIZED: merge('API_UNAUTHORIZED', 'auth', {
    causes: ['zoomApi.accountId, clientId or clientSecret is not that of a Server-to-Server OAuth app', 'the app lacks the rtms write scopes'],
    fixes: ['create a Server-to-Server OAuth app, add the RTMS write scopes (meeting, videosdk, phone), and copy its account id, client id and secret'],
  }),
  ZOOM_API_NOT_FOUND: merge('API_NOT_FOUND', 'stream', {
    causes: ['the meeting, session or call is not live, or the id is wrong'],
    fixes: ['use the meeting id or UUID of a meeting in progress (UUIDs with "/" are encoded twice by openrtms, as Zoom requires)'],
  }),
};

/** Guidance for a failure kind. */
export function guidanceForKind(kind: FailureKind, product?: string): Guidance {
  const g = KIND[kind];
  if (g.category !== 'auth') return g;
  const extra = authExtra(product);
  return { ...g, causes: [...extra.causes, ...g.causes], fixes: [...extra.fixes, ...g.fixes] };
}

/** One line: the first cause and the first fix (for logs and CLI errors). */
export function oneLine(g: Guidance): string {
  const cause = g.causes[0];
  const fix = g.fixes[0];
  return [cause && `likely: ${cause}`, fix && `fix: ${fix}`].filter(Boolean).join('; ');
}
