/**
 * Every RTMS message as a runtime schema and a TypeScript type derived from it, so the two can
 * never disagree. Field names follow Zoom's "Universal events" reference; optional fields are the
 * ones the documentation or Zoom's samples omit in some cases.
 */
import { MsgType } from './constants.js';
import {
  array,
  bool,
  int,
  intOrString,
  literal,
  nonEmptyStr,
  num,
  object,
  optional,
  record,
  str,
  unknownValue,
  type Infer,
  type Issue,
  type Schema,
} from './schema.js';

/** Requires at least one of the given fields (the meeting, session or engagement id). */
function withOneOf<T>(schema: Schema<T>, fields: readonly string[]): Schema<T> {
  const expected = `one of ${fields.join(', ')}`;
  return {
    expected: schema.expected,
    check(v, path): Issue | undefined {
      const found = schema.check(v, path);
      if (found) return found;
      const o = v as Record<string, unknown>;
      for (const f of fields) if (typeof o[f] === 'string' && (o[f] as string).length > 0) return undefined;
      return { path: path || fields[0], expected: `${expected} (non-empty string)`, received: 'missing' };
    },
  };
}

/** Fields that carry the meeting/session/engagement/call id in a handshake (Zoom's library always sends `meeting_uuid`). */
const ID_FIELDS = ['meeting_uuid', 'webinar_uuid', 'session_id', 'engagement_id', 'call_id'] as const;

const idFields = {
  meeting_uuid: optional(str()),
  webinar_uuid: optional(str()),
  session_id: optional(str()),
  engagement_id: optional(str()),
  call_id: optional(str()),
};

export const audioParamsSchema = object(
  {
    content_type: optional(int()),
    sample_rate: optional(int()),
    channel: optional(int()),
    codec: optional(int()),
    data_opt: optional(int()),
    send_rate: optional(int()),
  },
  'audio media params',
);
export const videoParamsSchema = object(
  {
    content_type: optional(int()),
    codec: optional(int()),
    resolution: optional(int()),
    data_opt: optional(int()),
    fps: optional(num()),
  },
  'video media params',
);
export const transcriptParamsSchema = object(
  {
    content_type: optional(int()),
    src_language: optional(int()),
    enable_lid: optional(bool()),
    /**
     * Translation target (July 2026; status 46 rejects a bad one). The wire name is not confirmed: Zoom's
     * library names the status but not the field (see docs/protocol-notes.md).
     */
    target_language: optional(int()),
  },
  'transcript media params',
);
export const chatParamsSchema = object({ content_type: optional(int()) }, 'chat media params');

export const mediaParamsSchema = object(
  {
    audio: optional(audioParamsSchema),
    video: optional(videoParamsSchema),
    deskshare: optional(videoParamsSchema),
    transcript: optional(transcriptParamsSchema),
    chat: optional(chatParamsSchema),
  },
  'media_params',
);

const participantSchema = object({ user_id: intOrString(), user_name: optional(str()) }, 'participant');

/** Media content of msg_type 14–18. `data` is base64 for audio/video/share, text for transcript/chat. */
export const mediaContentSchema = object(
  {
    user_id: optional(intOrString()),
    user_name: optional(str()),
    data: str(),
    timestamp: optional(num()),
    // transcript extras
    start_time: optional(num()),
    end_time: optional(num()),
    language: optional(intOrString()),
    attribute: optional(unknownValue()),
    // video/share extras
    width: optional(int()),
    height: optional(int()),
    fps: optional(num()),
  },
  'media content',
);

/** `data` of a chat message: text, a chat v2 JSON string, or (seen in Zoom's library) an already decoded object. */
const chatData: Schema<string | Record<string, unknown>> = {
  expected: 'string or object',
  check: (v, path) =>
    typeof v === 'string' || (typeof v === 'object' && v !== null && !Array.isArray(v)) ? undefined : { path, expected: 'string or object', received: v === undefined ? 'missing' : typeof v },
  code: (v) => `(typeof ${v} === 'string' || (typeof ${v} === 'object' && ${v} !== null && !Array.isArray(${v})))`,
};

/** Content of MEDIA_DATA_CHAT (18); `data` is parsed by `parseChatData` (protocol/chat.ts). */
export const chatContentSchema = object(
  {
    user_id: optional(intOrString()),
    user_name: optional(str()),
    data: chatData,
    timestamp: optional(num()),
  },
  'chat content',
);

export const schemas = {
  [MsgType.SIGNALING_HAND_SHAKE_REQ]: withOneOf(
    object({
      msg_type: literal(MsgType.SIGNALING_HAND_SHAKE_REQ),
      protocol_version: optional(int()),
      ...idFields,
      rtms_stream_id: nonEmptyStr(),
      sequence: optional(num()),
      signature: nonEmptyStr(),
    }),
    ID_FIELDS,
  ),
  [MsgType.SIGNALING_HAND_SHAKE_RESP]: object({
    msg_type: literal(MsgType.SIGNALING_HAND_SHAKE_RESP),
    protocol_version: optional(int()),
    status_code: int(),
    reason: optional(str()),
    media_server: optional(
      object({ server_urls: record(str()), srtp_keys: optional(unknownValue()) }, 'media_server'),
    ),
  }),
  [MsgType.DATA_HAND_SHAKE_REQ]: withOneOf(
    object({
      msg_type: literal(MsgType.DATA_HAND_SHAKE_REQ),
      protocol_version: optional(int()),
      ...idFields,
      rtms_stream_id: nonEmptyStr(),
      sequence: optional(num()),
      signature: nonEmptyStr(),
      media_type: int(),
      payload_encryption: optional(bool()),
      media_params: optional(mediaParamsSchema),
    }),
    ID_FIELDS,
  ),
  [MsgType.DATA_HAND_SHAKE_RESP]: object({
    msg_type: literal(MsgType.DATA_HAND_SHAKE_RESP),
    protocol_version: optional(int()),
    status_code: int(),
    reason: optional(str()),
    sequence: optional(num()),
    payload_encrypted: optional(bool()),
    media_type: optional(int()),
    media_params: optional(mediaParamsSchema),
  }),
  [MsgType.EVENT_SUBSCRIPTION]: object({
    msg_type: literal(MsgType.EVENT_SUBSCRIPTION),
    events: array(object({ event_type: int(), subscribe: bool() }, 'event subscription'), 64),
  }),
  [MsgType.EVENT_UPDATE]: object({
    msg_type: literal(MsgType.EVENT_UPDATE),
    event: object(
      {
        event_type: int(),
        timestamp: optional(num()),
        participants: optional(array(participantSchema)),
        user_id: optional(intOrString()),
        user_name: optional(str()),
        // chat-group events (10–14 outside Contact Center), as Zoom's library types them
        chat_groups: optional(unknownValue()),
        members_update_list: optional(unknownValue()),
        member_status_update_list: optional(unknownValue()),
      },
      'event',
    ),
  }),
  [MsgType.CLIENT_READY_ACK]: object({
    msg_type: literal(MsgType.CLIENT_READY_ACK),
    rtms_stream_id: optional(str()),
  }),
  [MsgType.STREAM_STATE_UPDATE]: object({
    msg_type: literal(MsgType.STREAM_STATE_UPDATE),
    rtms_stream_id: optional(str()),
    state: int(),
    reason: optional(int()),
    stop_reason: optional(int()),
    timestamp: optional(num()),
  }),
  [MsgType.SESSION_STATE_UPDATE]: object({
    msg_type: literal(MsgType.SESSION_STATE_UPDATE),
    session_id: optional(str()),
    rtms_stream_id: optional(str()),
    state: int(),
    reason: optional(int()),
    stop_reason: optional(int()),
    timestamp: optional(num()),
  }),
  [MsgType.SESSION_STATE_REQ]: object({
    msg_type: literal(MsgType.SESSION_STATE_REQ),
    session_id: optional(str()),
    rtms_stream_id: optional(str()),
  }),
  [MsgType.SESSION_STATE_RESP]: object({
    msg_type: literal(MsgType.SESSION_STATE_RESP),
    session_id: optional(str()),
    session_state: optional(int()),
    state: optional(int()),
    status_code: optional(int()),
  }),
  [MsgType.KEEP_ALIVE_REQ]: object({ msg_type: literal(MsgType.KEEP_ALIVE_REQ), timestamp: optional(num()) }),
  [MsgType.KEEP_ALIVE_RESP]: object({ msg_type: literal(MsgType.KEEP_ALIVE_RESP), timestamp: optional(num()) }),
  [MsgType.MEDIA_DATA_AUDIO]: object({ msg_type: literal(MsgType.MEDIA_DATA_AUDIO), content: mediaContentSchema }),
  [MsgType.MEDIA_DATA_VIDEO]: object({ msg_type: literal(MsgType.MEDIA_DATA_VIDEO), content: mediaContentSchema }),
  [MsgType.MEDIA_DATA_SHARE]: object({ msg_type: literal(MsgType.MEDIA_DATA_SHARE), content: mediaContentSchema }),
  [MsgType.MEDIA_DATA_TRANSCRIPT]: object({
    msg_type: literal(MsgType.MEDIA_DATA_TRANSCRIPT),
    content: mediaContentSchema,
  }),
  [MsgType.MEDIA_DATA_CHAT]: object({ msg_type: literal(MsgType.MEDIA_DATA_CHAT), content: chatContentSchema }),
  [MsgType.STREAM_STATE_REQ]: object({
    msg_type: literal(MsgType.STREAM_STATE_REQ),
    rtms_stream_id: optional(str()),
  }),
  [MsgType.STREAM_STATE_RESP]: object({
    msg_type: literal(MsgType.STREAM_STATE_RESP),
    rtms_stream_id: optional(str()),
    state: optional(int()),
    stream_state: optional(int()),
    status_code: optional(int()),
  }),
  [MsgType.STREAM_CLOSE_REQ]: object({
    msg_type: literal(MsgType.STREAM_CLOSE_REQ),
    rtms_stream_id: optional(str()),
  }),
  [MsgType.STREAM_CLOSE_RESP]: object({
    msg_type: literal(MsgType.STREAM_CLOSE_RESP),
    rtms_stream_id: optional(str()),
    status_code: optional(int()),
    reason: optional(str()),
  }),
  [MsgType.META_DATA_AUDIO]: object({ msg_type: literal(MsgType.META_DATA_AUDIO), content: optional(unknownValue()) }),
  [MsgType.META_DATA_VIDEO]: object({ msg_type: literal(MsgType.META_DATA_VIDEO), content: optional(unknownValue()) }),
  [MsgType.META_DATA_SHARE]: object({ msg_type: literal(MsgType.META_DATA_SHARE), content: optional(unknownValue()) }),
  [MsgType.META_DATA_TRANSCRIPT]: object({
    msg_type: literal(MsgType.META_DATA_TRANSCRIPT),
    content: optional(unknownValue()),
  }),
  [MsgType.META_DATA_CHAT]: object({ msg_type: literal(MsgType.META_DATA_CHAT), content: optional(unknownValue()) }),
  [MsgType.VIDEO_SUBSCRIPTION_REQ]: object({
    msg_type: literal(MsgType.VIDEO_SUBSCRIPTION_REQ),
    rtms_stream_id: optional(str()),
    user_id: intOrString(),
    subscribe: optional(bool()),
  }),
  [MsgType.VIDEO_SUBSCRIPTION_RESP]: object({
    msg_type: literal(MsgType.VIDEO_SUBSCRIPTION_RESP),
    rtms_stream_id: optional(str()),
    user_id: optional(intOrString()),
    status_code: optional(int()),
    /** false: the participant's video is now unsubscribed. */
    subscribe: optional(bool()),
    reason: optional(str()),
  }),
} satisfies Record<MsgType, Schema<unknown>>;

type Schemas = typeof schemas;
/** The message of a given `msg_type`, e.g. `Message<12>` is a KEEP_ALIVE_REQ. */
export type Message<T extends MsgType = MsgType> = T extends MsgType ? Infer<Schemas[T]> : never;
/** Any RTMS message. */
export type AnyMessage = Message<MsgType>;

export type SignalingHandshakeReq = Message<1>;
export type SignalingHandshakeResp = Message<2>;
export type DataHandshakeReq = Message<3>;
export type DataHandshakeResp = Message<4>;
export type EventSubscription = Message<5>;
export type EventUpdate = Message<6>;
export type ClientReadyAck = Message<7>;
export type StreamStateUpdate = Message<8>;
export type SessionStateUpdate = Message<9>;
export type KeepAliveReq = Message<12>;
export type KeepAliveResp = Message<13>;
export type MediaDataMessage = Message<14 | 15 | 16 | 17 | 18>;
export type ChatContent = Infer<typeof chatContentSchema>;
export type MediaContent = Infer<typeof mediaContentSchema>;
export type StreamCloseReq = Message<21>;
export type StreamCloseResp = Message<22>;
export type VideoSubscriptionReq = Message<28>;
export type VideoSubscriptionResp = Message<29>;
export type MediaParams = Infer<typeof mediaParamsSchema>;
export type AudioParams = Infer<typeof audioParamsSchema>;
export type VideoParams = Infer<typeof videoParamsSchema>;
export type TranscriptParams = Infer<typeof transcriptParamsSchema>;

/** Messages a client sends (the emulator parses these). */
export const CLIENT_TO_SERVER: ReadonlySet<number> = new Set([
  MsgType.SIGNALING_HAND_SHAKE_REQ,
  MsgType.DATA_HAND_SHAKE_REQ,
  MsgType.EVENT_SUBSCRIPTION,
  MsgType.CLIENT_READY_ACK,
  MsgType.SESSION_STATE_REQ,
  MsgType.KEEP_ALIVE_RESP,
  MsgType.STREAM_STATE_REQ,
  MsgType.STREAM_CLOSE_REQ,
  MsgType.VIDEO_SUBSCRIPTION_REQ,
]);

/** Messages a server sends (the client parses these). */
export const SERVER_TO_CLIENT: ReadonlySet<number> = new Set(
  Object.keys(schemas)
    .map(Number)
    .filter((n) => !CLIENT_TO_SERVER.has(n) || n === MsgType.KEEP_ALIVE_RESP),
);
