/**
 * The server side of Zoom's documented connection contract, against a raw `ws` client: keep-alives
 * only while no data flows and three misses end a socket; one signaling connection per stream
 * (status 8 for a second one); a lost media connection is announced on signaling and resumed on a
 * re-opened socket; a lost signaling connection is announced by webhook and awaited for a while.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DUPLICATE_SIGNAL_REASON, EventType, MsgType, StatusCode, StopReason, StreamState } from '../../src/protocol/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { RawSocket, firstPayload, handshake, joinRaw, sleep, startEmulator } from './raw.js';

describe('keep-alive', () => {
  it('pings only sockets without data, ends one after three unanswered pings, keeps one that answers', async () => {
    const { emu } = await startEmulator({ keepAliveIntervalMs: 100, waitForClientMs: 10_000, scenario: demoScenario(5) });
    const running = emu.run();
    try {
      const p = firstPayload(emu);
      const silent = await joinRaw(p, { mediaType: 1 });
      silent.signaling.answerKeepAlive = false;
      const t0 = Date.now();
      const closed = await Promise.race([silent.signaling.closed, sleep(3000).then(() => null)]);
      assert.ok(closed, 'the silent signaling socket was closed');
      const after = Date.now() - t0;
      assert.ok(after >= 300 && after < 1500, `closed after ${after} ms (3 missed pings at 100 ms)`);
      assert.equal(silent.signaling.count(MsgType.KEEP_ALIVE_REQ), 3, 'three requests, then the end');
      assert.equal(silent.media.count(MsgType.KEEP_ALIVE_REQ), 0, 'no keep-alive on a socket where audio flows');
      assert.equal(emu.counters.keepalive.missed, 1);
      await silent.media.closed; // the server ends media with signaling

      const answering = await joinRaw(p, { mediaType: 1 });
      await sleep(1000);
      assert.equal(answering.signaling.ws.readyState, 1, 'still open after ten intervals');
      assert.equal(answering.media.ws.readyState, 1);
      assert.ok(answering.signaling.count(MsgType.KEEP_ALIVE_REQ) >= 5);
      const ka = answering.signaling.messages.find((m) => m.msg_type === MsgType.KEEP_ALIVE_REQ);
      assert.equal(typeof ka?.timestamp, 'number', 'KEEP_ALIVE_REQ carries a timestamp');
      answering.close();
    } finally {
      await emu.close();
      await running;
    }
  });
});

describe('one signaling connection per stream', () => {
  it('a second handshake while one is open is refused with status 8; the first keeps streaming', async () => {
    const { emu } = await startEmulator({ waitForClientMs: 10_000, scenario: demoScenario(5) });
    const running = emu.run();
    const p = firstPayload(emu);
    const first = await joinRaw(p, { mediaType: 1 });
    try {
      await first.media.type(MsgType.MEDIA_DATA_AUDIO);
      const second = await RawSocket.open(p.server_urls);
      second.send(handshake(p, 1));
      const resp = await second.type(MsgType.SIGNALING_HAND_SHAKE_RESP);
      assert.equal(resp.status_code, StatusCode.DUPLICATE_SIGNAL_REQUEST);
      assert.equal(resp.reason, DUPLICATE_SIGNAL_REASON);
      assert.equal((await second.closed).code, 1008);
      const before = first.media.count(MsgType.MEDIA_DATA_AUDIO);
      await sleep(200);
      assert.ok(first.media.count(MsgType.MEDIA_DATA_AUDIO) > before, 'the holder still receives audio');
      assert.equal(first.signaling.count(MsgType.STREAM_STATE_UPDATE, (m) => m.state === StreamState.TERMINATED), 0, 'no takeover');
      assert.equal(emu.counters.connections.rejected_duplicate, 1);
      assert.equal(emu.counters.connections.kicked, 0);
    } finally {
      first.close();
      await emu.close();
      await running;
    }
  });
});

describe('a lost media connection', () => {
  it('is announced on signaling (event 7, INTERRUPTED/14) and media resumes on a re-opened socket after CLIENT_READY_ACK', async () => {
    const { emu } = await startEmulator({ waitForClientMs: 10_000, scenario: demoScenario(5) });
    const running = emu.run();
    const p = firstPayload(emu);
    const j = await joinRaw(p, { mediaType: 1 });
    try {
      await j.media.type(MsgType.MEDIA_DATA_AUDIO);
      j.media.ws.terminate();
      const event = await j.signaling.next((m) => m.msg_type === MsgType.EVENT_UPDATE && m.event.event_type === EventType.MEDIA_CONNECTION_INTERRUPTED);
      assert.equal(typeof event.event.timestamp, 'number');
      const state = await j.signaling.next((m) => m.msg_type === MsgType.STREAM_STATE_UPDATE && m.state === StreamState.INTERRUPTED);
      assert.equal(state.reason, StopReason.STOP_BC_DATA_CONNECTION_INTERRUPTED);

      const media = await RawSocket.open(j.signalingResp.media_server.server_urls.all);
      media.send(handshake(p, 3, { media_type: 1 }));
      assert.equal((await media.type(MsgType.DATA_HAND_SHAKE_RESP)).status_code, 0);
      await sleep(150);
      assert.equal(media.count(MsgType.MEDIA_DATA_AUDIO), 0, 'nothing before CLIENT_READY_ACK');
      j.signaling.send({ msg_type: MsgType.CLIENT_READY_ACK, rtms_stream_id: p.rtms_stream_id });
      await media.type(MsgType.MEDIA_DATA_AUDIO);
      const after = j.signaling.messages.indexOf(state);
      await j.signaling.next((m) => m.msg_type === MsgType.STREAM_STATE_UPDATE && m.state === StreamState.ACTIVE && j.signaling.messages.indexOf(m) > after);
      assert.equal(emu.counters.connections.signaling, 1, 'signaling stayed up');
      media.close();
    } finally {
      j.close();
      await emu.close();
      await running;
    }
  });

  it('that never comes back ends the stream after the media window (AWAIT_RECONNECTION_TIMEOUT)', async () => {
    const { emu, bodies } = await startEmulator({ waitForClientMs: 10_000, scenario: demoScenario(5), reconnectWindowMs: { media: 400 } });
    const running = emu.run();
    const p = firstPayload(emu);
    const j = await joinRaw(p, { mediaType: 1 });
    try {
      await j.media.type(MsgType.MEDIA_DATA_AUDIO);
      j.media.ws.terminate();
      const end = await j.signaling.next((m) => m.msg_type === MsgType.STREAM_STATE_UPDATE && m.state === StreamState.TERMINATED, 3000);
      assert.equal(end.reason, StopReason.STOP_BC_AWAIT_RECONNECTION_TIMEOUT);
      const summary = await running;
      assert.equal(summary.per_stream[0].ended_by, 'reconnect-timeout');
      const stopped = bodies.find((b) => String(b.event).endsWith('rtms_stopped'));
      assert.equal(stopped?.payload.stop_reason, StopReason.STOP_BC_AWAIT_RECONNECTION_TIMEOUT);
    } finally {
      j.close();
      await emu.close();
    }
  });
});

describe('a lost signaling connection', () => {
  it('ends media too, sends rtms_interrupted, and lets the app back in within the window', async () => {
    const { emu, bodies } = await startEmulator({ waitForClientMs: 10_000, scenario: demoScenario(5) });
    const running = emu.run();
    const p = firstPayload(emu);
    const j = await joinRaw(p, { mediaType: 1 });
    try {
      await j.media.type(MsgType.MEDIA_DATA_AUDIO);
      j.signaling.ws.terminate();
      await j.media.closed;
      const deadline = Date.now() + 2000;
      while (!bodies.some((b) => b.event === 'meeting.rtms_interrupted') && Date.now() < deadline) await sleep(20);
      const interrupted = bodies.find((b) => b.event === 'meeting.rtms_interrupted');
      assert.ok(interrupted, 'the interrupted webhook was sent');
      assert.equal(interrupted.payload.rtms_stream_id, p.rtms_stream_id);
      assert.equal(interrupted.payload.server_urls, p.server_urls);
      const again = await joinRaw(p, { mediaType: 1 });
      await again.media.type(MsgType.MEDIA_DATA_AUDIO);
      assert.equal(emu.counters.connections.signaling, 2);
      again.close();
    } finally {
      j.close();
      await emu.close();
      await running;
    }
  });

  it('that never comes back ends the stream after the signaling window', async () => {
    const { emu, bodies } = await startEmulator({ waitForClientMs: 10_000, scenario: demoScenario(5), reconnectWindowMs: { signaling: 300 } });
    const running = emu.run();
    const p = firstPayload(emu);
    const j = await joinRaw(p, { mediaType: 1 });
    await j.media.type(MsgType.MEDIA_DATA_AUDIO);
    const t0 = Date.now();
    j.signaling.ws.terminate();
    const summary = await running;
    assert.ok(Date.now() - t0 < 2500, 'ended long before the 5 s scenario');
    assert.equal(summary.per_stream[0].ended_by, 'reconnect-timeout');
    const stopped = bodies.find((b) => String(b.event).endsWith('rtms_stopped'));
    assert.equal(stopped?.payload.stop_reason, StopReason.STOP_BC_AWAIT_RECONNECTION_TIMEOUT);
    await emu.close();
  });
});
