/**
 * The benchmark's floor: a bare RTMS receiver that does both handshakes, answers keep-alives and
 * JSON-parses every frame, and nothing else. What the full pipeline costs is measured against it.
 */
import WebSocket from 'ws';
import { MsgType, rtmsSignature, mediaTypeMask, buildMediaParams, type MediaKind } from '../protocol/index.js';
import { StreamLag, type LatencyHistogram } from './latency.js';

export interface FloorCounters {
  frames: number;
  /** Steady-state lag (after each stream's warm-up) and the lag of every frame. */
  latency: LatencyHistogram;
  latencyAll: LatencyHistogram;
}

export function floorJoin(payload: Record<string, string>, creds: { clientId: string; clientSecret: string }, kinds: MediaKind[], counters: FloorCounters): () => void {
  const id = payload.meeting_uuid ?? payload.session_id ?? payload.engagement_id;
  const idField = payload.meeting_uuid ? 'meeting_uuid' : payload.session_id ? 'session_id' : 'engagement_id';
  const signature = rtmsSignature(creds.clientId, creds.clientSecret, id, payload.rtms_stream_id);
  const sockets: WebSocket[] = [];
  const lag = new StreamLag(counters.latency, counters.latencyAll);
  const signaling = new WebSocket(payload.server_urls);
  sockets.push(signaling);
  const keepAlive = (ws: WebSocket, m: { timestamp?: number }) => ws.send(JSON.stringify({ msg_type: MsgType.KEEP_ALIVE_RESP, timestamp: m.timestamp }));
  signaling.on('error', () => {});
  signaling.on('open', () => signaling.send(JSON.stringify({ msg_type: 1, protocol_version: 1, [idField]: id, rtms_stream_id: payload.rtms_stream_id, sequence: 1, signature })));
  signaling.on('message', (raw) => {
    const m = JSON.parse(raw.toString());
    if (m.msg_type === MsgType.KEEP_ALIVE_REQ) return keepAlive(signaling, m);
    if (m.msg_type !== MsgType.SIGNALING_HAND_SHAKE_RESP || m.status_code !== 0) return;
    const media = new WebSocket(m.media_server.server_urls.all);
    sockets.push(media);
    media.on('error', () => {});
    media.on('open', () =>
      media.send(JSON.stringify({ msg_type: 3, protocol_version: 1, [idField]: id, rtms_stream_id: payload.rtms_stream_id, signature, media_type: mediaTypeMask(kinds), media_params: buildMediaParams(kinds) })),
    );
    media.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.msg_type >= MsgType.MEDIA_DATA_AUDIO && f.msg_type <= MsgType.MEDIA_DATA_CHAT) {
        counters.frames++;
        if (f.content?.timestamp) lag.record(f.content.timestamp);
      } else if (f.msg_type === MsgType.KEEP_ALIVE_REQ) keepAlive(media, f);
      else if (f.msg_type === MsgType.DATA_HAND_SHAKE_RESP && f.status_code === 0) signaling.send(JSON.stringify({ msg_type: MsgType.CLIENT_READY_ACK, rtms_stream_id: payload.rtms_stream_id }));
    });
  });
  return () => sockets.forEach((s) => s.terminate());
}
