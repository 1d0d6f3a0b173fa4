/** Keep-alive supervision and one connection per stream, against a raw `ws` client. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MsgType, StopReason, StreamState } from '../../src/protocol/index.js';
import { KICK_CLOSE_CODE } from '../../src/emulator/index.js';
import { firstPayload, joinRaw, sleep, startEmulator } from './raw.js';

describe('keep-alive', () => {
  it('drops a silent client after the tolerance, keeps one that answers', async () => {
    const { emu } = await startEmulator({
      keepAliveIntervalMs: 100,
      keepAliveToleranceMs: { signaling: 400, media: 500 },
      waitForClientMs: 10_000,
      scenario: (await import('../../src/emulator/scenario.js')).demoScenario(5),
    });
    const running = emu.run();
    try {
      const p = firstPayload(emu);
      const silent = await joinRaw(p, { mediaType: 1 });
      silent.signaling.answerKeepAlive = false;
      silent.media.answerKeepAlive = false;
      const t0 = Date.now();
      const closed = await Promise.race([silent.signaling.closed, sleep(3000).then(() => null)]);
      assert.ok(closed, 'the silent signaling socket was closed');
      const after = Date.now() - t0;
      assert.ok(after >= 350 && after < 1500, `closed after ${after} ms (tolerance 400 ms)`);
      assert.ok(silent.signaling.count(MsgType.KEEP_ALIVE_REQ) >= 2, 'keep-alives were sent');
      assert.ok(emu.counters.keepalive.missed >= 1);

      const answering = await joinRaw(p, { mediaType: 1 });
      await sleep(1000);
      assert.equal(answering.signaling.ws.readyState, 1, 'still open after 2.5 tolerances');
      assert.equal(answering.media.ws.readyState, 1);
      assert.ok(emu.counters.keepalive.answered >= 10, `answered ${emu.counters.keepalive.answered}`);
      const ka = answering.media.messages.find((m) => m.msg_type === MsgType.KEEP_ALIVE_REQ);
      assert.equal(typeof ka?.timestamp, 'number', 'KEEP_ALIVE_REQ on the media socket carries a timestamp');
      answering.close();
    } finally {
      await emu.close();
      await running;
    }
  });
});

describe('one connection per stream', () => {
  it('a second signaling handshake ends the first connection as a takeover', async () => {
    const { emu } = await startEmulator({ waitForClientMs: 10_000, scenario: (await import('../../src/emulator/scenario.js')).demoScenario(5) });
    const kicks: unknown[] = [];
    emu.on('kicked', (k) => kicks.push(k));
    const running = emu.run();
    try {
      const p = firstPayload(emu);
      const first = await joinRaw(p, { mediaType: 1 });
      await first.media.type(MsgType.MEDIA_DATA_AUDIO);
      const second = await joinRaw(p, { mediaType: 1 });
      const end = await first.signaling.next((m) => m.msg_type === MsgType.STREAM_STATE_UPDATE && m.state === StreamState.TERMINATED);
      assert.equal(end.reason, StopReason.STOP_BC_INSTANCE_CONNECTION_INTERRUPTED);
      assert.equal((await first.signaling.closed).code, KICK_CLOSE_CODE);
      await first.media.closed;
      const n = second.media.count(MsgType.MEDIA_DATA_AUDIO);
      await second.media.next((m) => m.msg_type === MsgType.MEDIA_DATA_AUDIO && second.media.count(MsgType.MEDIA_DATA_AUDIO) > n + 2);
      assert.equal(emu.counters.connections.kicked, 1);
      assert.equal(emu.counters.connections.signaling, 2);
      assert.deepEqual(kicks, [{ rtmsStreamId: p.rtms_stream_id, by: 'takeover' }]);
      second.close();
    } finally {
      await emu.close();
      await running;
    }
  });

  it('a data handshake from a connection that was replaced is refused', async () => {
    const { emu } = await startEmulator({ waitForClientMs: 10_000, scenario: (await import('../../src/emulator/scenario.js')).demoScenario(5) });
    const running = emu.run();
    try {
      const p = firstPayload(emu);
      const j = await joinRaw(p, { mediaType: 1 });
      j.close();
      await j.signaling.closed;
      await sleep(50);
      // No signaling connection holds the stream now.
      const { RawSocket, handshake } = await import('./raw.js');
      const media = await RawSocket.open(j.signalingResp.media_server.server_urls.all);
      media.send(handshake(p, 3, { media_type: 1 }));
      assert.notEqual((await media.type(MsgType.DATA_HAND_SHAKE_RESP)).status_code, 0);
      media.close();
    } finally {
      await emu.close();
      await running;
    }
  });
});
