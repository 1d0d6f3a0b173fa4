/**
 * Both handshakes by hand (a raw `ws` client), for every product: documented shapes, defaults for
 * omitted optional fields, status codes for bad requests, and what flows after CLIENT_READY_ACK.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ContactCenterEventType, EventType, MsgType, StatusCode, StopReason, StreamState, PRODUCTS, type Product } from '../../src/protocol/index.js';
import type { HandshakeInfo } from '../../src/emulator/index.js';
import { RawSocket, firstPayload, handshake, joinRaw, startEmulator } from './raw.js';

const KINDS = ['all', 'audio', 'video', 'deskshare', 'transcript', 'chat'];

describe('handshakes, per product', () => {
  for (const product of PRODUCTS) {
    it(`${product}: signaling + data handshakes, then media after CLIENT_READY_ACK`, async () => {
      const { emu } = await startEmulator({ product, waitForClientMs: 10_000 });
      const handshakes: HandshakeInfo[] = [];
      emu.on('handshake', (h) => handshakes.push(h));
      const running = emu.run();
      try {
        const p = firstPayload(emu);
        const idField = { meeting: 'meeting_uuid', webinar: 'meeting_uuid', session: 'session_id', contact_center: 'engagement_id', phone: 'call_id' }[product as Product];
        assert.ok(idField in p, `payload carries ${idField}`);

        // A bad signature first: status 3, the socket is closed.
        const bad = await RawSocket.open(p.server_urls);
        bad.send(handshake(p, 1, {}, 'wrong-secret'));
        const badResp = await bad.type(MsgType.SIGNALING_HAND_SHAKE_RESP);
        assert.equal(badResp.status_code, StatusCode.INVALID_SIGNATURE);
        assert.equal((await bad.closed).code, 1008);

        const j = await joinRaw(p);
        assert.equal(j.signalingResp.status_code, 0);
        assert.equal(j.signalingResp.protocol_version, 1);
        const voice = product === 'contact_center' || product === 'phone';
        // Voice products list only the media they carry (Zoom's library opens a socket per listed kind).
        assert.deepEqual(Object.keys(j.signalingResp.media_server.server_urls).sort(), voice ? ['all', 'audio', 'transcript'] : [...KINDS].sort());
        assert.equal(j.dataResp.status_code, 0);
        const granted = Object.keys(j.dataResp.media_params).sort();
        if (voice) assert.deepEqual(granted, ['audio', 'transcript'], 'voice only');
        else assert.deepEqual(granted, ['audio', 'chat', 'deskshare', 'transcript', 'video']);

        const active = await j.signaling.next((m) => m.msg_type === MsgType.STREAM_STATE_UPDATE && m.state === StreamState.ACTIVE);
        assert.equal(active.rtms_stream_id, p.rtms_stream_id);
        const first = await j.signaling.next((m) => m.msg_type === MsgType.EVENT_UPDATE && m.event.event_type === EventType.FIRST_PACKET_TIMESTAMP);
        const audio = await j.media.type(MsgType.MEDIA_DATA_AUDIO);
        assert.equal(audio.content.user_id, 0, 'mixed audio by default');
        assert.equal(Buffer.from(audio.content.data, 'base64').length, 640, 'L16 16 kHz mono 20 ms');
        assert.equal(audio.content.timestamp, first.event.timestamp, 'the first packet carries the first-packet timestamp');
        if (product === 'contact_center') {
          await j.signaling.next((m) => m.msg_type === MsgType.EVENT_UPDATE && m.event.event_type === ContactCenterEventType.CONSUMER_ANSWERED);
        } else if (!voice) {
          await j.media.type(MsgType.MEDIA_DATA_VIDEO);
        }

        // STREAM_CLOSE_REQ: RESP, then TERMINATED with RECEIVER_REQUEST_CLOSE, then the sockets close.
        j.signaling.send({ msg_type: MsgType.STREAM_CLOSE_REQ, rtms_stream_id: p.rtms_stream_id });
        assert.equal((await j.signaling.type(MsgType.STREAM_CLOSE_RESP)).status_code, 0);
        const end = await j.signaling.next((m) => m.msg_type === MsgType.STREAM_STATE_UPDATE && m.state === StreamState.TERMINATED);
        assert.equal(end.reason, StopReason.STOP_BC_RECEIVER_REQUEST_CLOSE);
        const iClose = j.signaling.messages.findIndex((m) => m.msg_type === MsgType.STREAM_CLOSE_RESP);
        const iEnd = j.signaling.messages.indexOf(end);
        assert.ok(iClose < iEnd, 'RESP before the state update');
        await j.signaling.closed;
        await j.media.closed;
        const summary = await running;
        assert.equal(summary.per_stream[0].ended_by, 'client');
        assert.equal(summary.connections.rejected_signature, 1);
        assert.deepEqual(
          handshakes.map((h) => [h.role, h.statusCode]),
          [
            ['signaling', StatusCode.INVALID_SIGNATURE],
            ['signaling', 0],
            ['media', 0],
          ],
        );
      } finally {
        await emu.close();
      }
    });
  }
});

describe('handshake details', () => {
  it('per-kind media sockets carry only their kind; media params are validated', async () => {
    const scenario = {
      name: 'short',
      duration_s: 3,
      participants: [{ user_id: 1, user_name: 'Ada' }],
      timeline: [{ at: 0.5, type: 'speak' as const, user_id: 1, text: 'a synthetic line', duration: 0.5 }],
    };
    const { emu } = await startEmulator({ waitForClientMs: 10_000, scenario });
    const running = emu.run();
    try {
      const p = firstPayload(emu);
      const j = await joinRaw(p, { route: 'transcript', mediaType: 1 | 8 });
      assert.deepEqual(Object.keys(j.dataResp.media_params), ['transcript'], 'audio is not carried by the transcript socket');

      // Opus needs 48 kHz: INVALID_MEDIA_AUDIO_SAMPLE_RATE, naming the field.
      const audio = await RawSocket.open(j.signalingResp.media_server.server_urls.audio);
      audio.send(handshake(p, 3, { media_type: 1, media_params: { audio: { codec: 4, sample_rate: 1 } } }));
      const badParams = await audio.type(MsgType.DATA_HAND_SHAKE_RESP);
      assert.equal(badParams.status_code, StatusCode.INVALID_MEDIA_AUDIO_SAMPLE_RATE);
      assert.match(badParams.reason, /sample_rate|codec/);

      // Nothing this socket can carry.
      const chat = await RawSocket.open(j.signalingResp.media_server.server_urls.chat);
      chat.send(handshake(p, 3, { media_type: 1 }));
      assert.equal((await chat.type(MsgType.DATA_HAND_SHAKE_RESP)).status_code, StatusCode.INVALID_MEDIA_TYPE);

      // A good audio socket: G.711 8 kHz, 40 ms frames; a second handshake on it is a duplicate.
      const good = await RawSocket.open(j.signalingResp.media_server.server_urls.audio);
      good.send(handshake(p, 3, { media_type: 1, media_params: { audio: { codec: 2, sample_rate: 0, send_rate: 40 } } }));
      const ok = await good.type(MsgType.DATA_HAND_SHAKE_RESP);
      assert.equal(ok.status_code, 0);
      assert.deepEqual(ok.media_params.audio, { content_type: 2, sample_rate: 0, channel: 1, codec: 2, data_opt: 1, send_rate: 40 });
      good.send(handshake(p, 3, { media_type: 1 }));
      await good.next((m) => m.msg_type === MsgType.DATA_HAND_SHAKE_RESP && m.status_code === StatusCode.DUPLICATE_MEDIA_DATA_CONNECTION);
      // Media flows to a socket handshaken after the stream started once CLIENT_READY_ACK says so.
      j.signaling.send({ msg_type: MsgType.CLIENT_READY_ACK, rtms_stream_id: p.rtms_stream_id });
      const frame = await good.type(MsgType.MEDIA_DATA_AUDIO);
      assert.equal(Buffer.from(frame.content.data, 'base64').length, 320, '8 kHz × 40 ms of 8-bit G.711');
      await j.media.type(MsgType.MEDIA_DATA_TRANSCRIPT, 5000);

      // A second signaling handshake on the same socket: answered, the socket stays.
      j.signaling.send(handshake(p, 1));
      await j.signaling.next((m) => m.msg_type === MsgType.SIGNALING_HAND_SHAKE_RESP && m.status_code === StatusCode.DUPLICATE_SIGNAL_REQUEST);
      j.signaling.send({ msg_type: MsgType.STREAM_STATE_REQ, rtms_stream_id: p.rtms_stream_id });
      const state = await j.signaling.type(MsgType.STREAM_STATE_RESP);
      assert.equal(state.state, StreamState.ACTIVE);
      j.signaling.send({ msg_type: MsgType.SESSION_STATE_REQ, rtms_stream_id: p.rtms_stream_id });
      await j.signaling.type(MsgType.SESSION_STATE_RESP);
      j.close();
      good.close();
    } finally {
      await emu.close();
      await running;
    }
  });

  it('EVENT_SUBSCRIPTION: only subscribed events are sent', async () => {
    const { emu } = await startEmulator({ waitForClientMs: 10_000, scenario: (await import('../../src/emulator/scenario.js')).demoScenario(3), fast: true });
    const running = emu.run();
    try {
      const p = firstPayload(emu);
      const j = await joinRaw(p, { mediaType: 1, ready: false });
      j.signaling.send({ msg_type: MsgType.EVENT_SUBSCRIPTION, events: [{ event_type: EventType.ACTIVE_SPEAKER_CHANGE, subscribe: false }] });
      j.signaling.send({ msg_type: MsgType.CLIENT_READY_ACK, rtms_stream_id: p.rtms_stream_id });
      await j.signaling.next((m) => m.msg_type === MsgType.STREAM_STATE_UPDATE && m.state === StreamState.TERMINATED, 5000);
      const types = new Set(j.signaling.messages.filter((m) => m.msg_type === MsgType.EVENT_UPDATE).map((m) => m.event.event_type));
      assert.ok(types.has(EventType.PARTICIPANT_JOIN));
      assert.ok(!types.has(EventType.ACTIVE_SPEAKER_CHANGE));
      j.close();
    } finally {
      await running;
      await emu.close();
    }
  });

  it('VIDEO_SUBSCRIPTION_REQ: video follows the chosen participant', async () => {
    const { emu } = await startEmulator({ waitForClientMs: 10_000 });
    const running = emu.run();
    try {
      const p = firstPayload(emu);
      const j = await joinRaw(p, { mediaType: 2 });
      const userId = [...emu.streams[0].plan.names.keys()][2];
      j.signaling.send({ msg_type: MsgType.VIDEO_SUBSCRIPTION_REQ, rtms_stream_id: p.rtms_stream_id, user_id: userId });
      assert.equal((await j.signaling.type(MsgType.VIDEO_SUBSCRIPTION_RESP)).status_code, 0);
      const n = j.media.messages.length;
      await j.media.next((m) => m.msg_type === MsgType.MEDIA_DATA_VIDEO && j.media.messages.indexOf(m) >= n);
      await new Promise((r) => setTimeout(r, 200));
      const after = j.media.messages.slice(n + 1).filter((m) => m.msg_type === MsgType.MEDIA_DATA_VIDEO);
      assert.ok(after.length > 0 && after.every((m) => m.content.user_id === userId));
      j.signaling.send({ msg_type: MsgType.VIDEO_SUBSCRIPTION_REQ, rtms_stream_id: p.rtms_stream_id, user_id: 42 });
      assert.notEqual((await j.signaling.next((m) => m.msg_type === MsgType.VIDEO_SUBSCRIPTION_RESP && m.user_id === 42)).status_code, 0);
      j.close();
    } finally {
      await emu.close();
      await running;
    }
  });
});
