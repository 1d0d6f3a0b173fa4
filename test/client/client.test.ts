import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { RtmsClient, backoffDelay, DEFAULT_RECONNECT } from '../../src/client/index.js';
import { InvalidStateError, OpenRtmsError } from '../../src/errors.js';
import { MsgType, StatusCode, StopReason, StreamState, rtmsSignature, TranscriptLanguage } from '../../src/protocol/index.js';
import { ScriptedServer } from '../helpers/scripted-server.js';

const creds = { clientId: 'cid', clientSecret: 'csecret' };
const fastReconnect = { initialDelayMs: 20, maxDelayMs: 100, jitter: 0, maxAttempts: 5 };
let server: ScriptedServer;
let client: RtmsClient | undefined;

async function setup(opts = {}) {
  server = await new ScriptedServer(opts).start();
  return server;
}
afterEach(async () => {
  await client?.close();
  client = undefined;
  await server?.close();
});

describe('join: signaling and media handshakes', () => {
  it('signs both handshakes, asks for the media, then sends CLIENT_READY_ACK on signaling', async () => {
    await setup();
    client = new RtmsClient({ ...creds, media: ['audio', 'transcript'], transcript: { src_language: TranscriptLanguage.ENGLISH } });
    await client.join(server.payload());
    assert.equal(client.state, 'ready');
    const [sig] = server.signaling();
    const hs = sig.received[0];
    assert.equal(hs.msg_type, MsgType.SIGNALING_HAND_SHAKE_REQ);
    assert.equal(hs.meeting_uuid, 'm/uuid+=');
    assert.equal(hs.rtms_stream_id, 'stream-1');
    assert.equal(hs.signature, rtmsSignature('cid', 'csecret', 'm/uuid+=', 'stream-1'));
    const ready = await server.next((c, m) => c === sig && m.msg_type === MsgType.CLIENT_READY_ACK).catch(() => null);
    assert.ok(ready || sig.received.some((m) => m.msg_type === MsgType.CLIENT_READY_ACK), 'CLIENT_READY_ACK on signaling');
    const [media] = server.media();
    assert.equal(media.path, '/media/all');
    const dh = media.received[0] as { msg_type: number; media_type: number; media_params: { transcript: { src_language: number; enable_lid: boolean } } };
    assert.equal(dh.msg_type, MsgType.DATA_HAND_SHAKE_REQ);
    assert.equal(dh.media_type, 1 | 8);
    assert.deepEqual(dh.media_params.transcript, { content_type: 5, src_language: 9, enable_lid: false });
  });

  for (const [field, product] of [['session_id', 'session'], ['engagement_id', 'contact_center']] as const) {
    it(`uses ${field} for ${product} payloads`, async () => {
      await setup();
      client = new RtmsClient({ ...creds, media: ['audio'] });
      await client.join({ [field]: 'id-1', rtms_stream_id: 's-9', server_urls: server.signalingUrl });
      const hs = server.signaling()[0].received[0];
      assert.equal(hs[field], 'id-1');
      assert.equal(hs.meeting_uuid, 'id-1', "meeting_uuid as well: Zoom's library sends the id there for every product");
      assert.equal(hs.signature, rtmsSignature('cid', 'csecret', 'id-1', 's-9'));
    });
  }

  it('opens one media socket per kind in per-kind mode', async () => {
    await setup();
    client = new RtmsClient({ ...creds, media: ['audio', 'video', 'transcript'], socketMode: 'per-kind' });
    await client.join(server.payload());
    assert.deepEqual(server.media().map((c) => c.path).sort(), ['/media/audio', '/media/transcript', '/media/video']);
    const types = server.media().map((c) => c.received[0].media_type).sort();
    assert.deepEqual(types, [1, 2, 8]);
  });

  it('rejects a payload without ids with a typed error', async () => {
    client = new RtmsClient(creds);
    assert.throws(() => client!.join({ rtms_stream_id: 's', server_urls: 'ws://x' }), (e: OpenRtmsError) => e.code === 'RTMS_INVALID_PAYLOAD');
  });

  it('fails with RTMS_SIGNATURE_REJECTED and does not retry', async () => {
    await setup({ signalingStatus: StatusCode.INVALID_SIGNATURE });
    client = new RtmsClient({ ...creds, reconnect: fastReconnect });
    await assert.rejects(client.join(server.payload()), (e: OpenRtmsError) => e.code === 'RTMS_SIGNATURE_REJECTED');
    const closed = await client.whenClosed();
    assert.equal(closed.reason, 'signature-rejected');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server.signaling().length, 1);
  });

  it('fails with RTMS_JOIN_TIMEOUT when the server never answers', async () => {
    await setup({ silentSignaling: true });
    client = new RtmsClient({ ...creds, joinTimeoutMs: 200, reconnect: { enabled: false } });
    await assert.rejects(client.join(server.payload()), (e: OpenRtmsError) => e.code === 'RTMS_JOIN_TIMEOUT');
  });

  it('throws InvalidStateError on a second join and on leave before join', async () => {
    client = new RtmsClient(creds);
    assert.throws(() => client!.leave(), InvalidStateError);
    await setup();
    await client.join(server.payload());
    assert.throws(() => client!.join(server.payload()), InvalidStateError);
  });
});

describe('media and events', () => {
  it('emits typed frames for every media kind', async () => {
    await setup();
    client = new RtmsClient(creds);
    await client.join(server.payload());
    const got: Record<string, unknown> = {};
    for (const k of ['audio', 'video', 'deskshare', 'transcript', 'chat'] as const) client.on(k, (f) => (got[k] = f));
    const pcm = Buffer.from([1, 2, 3, 4]);
    server.broadcast('/media', { msg_type: 14, content: { user_id: 0, user_name: '', data: pcm.toString('base64'), timestamp: 1000 } });
    server.broadcast('/media', { msg_type: 15, content: { user_id: 7, user_name: 'Ada', data: 'AAAAAQ==', timestamp: 1001 } });
    server.broadcast('/media', { msg_type: 16, content: { user_id: 7, user_name: 'Ada', data: 'AAAAAQ==', timestamp: 1002 } });
    server.broadcast('/media', { msg_type: 17, content: { user_id: 7, user_name: 'Ada', data: 'hello world', timestamp: 1003, start_time: 1, end_time: 2, language: 9 } });
    server.broadcast('/media', { msg_type: 18, content: { user_id: 8, user_name: 'Grace', data: 'hi', timestamp: 1004 } });
    await once(client, 'chat');
    assert.deepEqual((got.audio as { data: Buffer }).data, pcm);
    assert.equal((got.video as { kind: string }).kind, 'video');
    assert.equal((got.deskshare as { kind: string }).kind, 'deskshare');
    assert.deepEqual({ ...(got.transcript as object), receivedAt: 0 }, { userId: 7, userName: 'Ada', text: 'hello world', timestamp: 1003, startTime: 1, endTime: 2, language: 9, receivedAt: 0 });
    assert.equal((got.chat as { text: string }).text, 'hi');
    assert.deepEqual(client.stats.frames, { audio: 1, video: 1, deskshare: 1, transcript: 1, chat: 1 });
  });

  it('emits participant and active-speaker events', async () => {
    await setup();
    client = new RtmsClient(creds);
    await client.join(server.payload());
    const joined = once(client, 'participant');
    server.broadcast('/signaling', { msg_type: 6, event: { event_type: 3, timestamp: 5, participants: [{ user_id: 16778240, user_name: 'Ada' }] } });
    const [p] = await joined;
    assert.deepEqual(p, { action: 'join', participants: [{ userId: 16778240, userName: 'Ada' }], timestamp: 5 });
    const spk = once(client, 'activeSpeaker');
    server.broadcast('/signaling', { msg_type: 6, event: { event_type: 2, timestamp: 6, user_id: 16778240, user_name: 'Ada' } });
    assert.deepEqual((await spk)[0], { userId: 16778240, userName: 'Ada', timestamp: 6 });
  });

  it('answers KEEP_ALIVE_REQ on both sockets, echoing the timestamp', async () => {
    await setup();
    client = new RtmsClient(creds);
    await client.join(server.payload());
    const sigAnswer = server.next((c, m) => c.path === '/signaling' && m.msg_type === 13);
    const mediaAnswer = server.next((c, m) => c.path.startsWith('/media') && m.msg_type === 13);
    server.broadcast('/signaling', { msg_type: 12, timestamp: 111 });
    server.broadcast('/media', { msg_type: 12, timestamp: 222 });
    assert.equal((await sigAnswer).msg.timestamp, 111);
    assert.equal((await mediaAnswer).msg.timestamp, 222);
  });

  it('survives malformed frames and reports them as typed errors', async () => {
    await setup();
    client = new RtmsClient(creds);
    await client.join(server.payload());
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.code));
    server.broadcast('/media', '{not json');
    server.broadcast('/media', { msg_type: 99 });
    server.broadcast('/media', { msg_type: 14, content: { data: 5 } });
    server.broadcast('/media', { msg_type: 17, content: { user_id: 1, user_name: 'A', data: 'still alive', timestamp: 1 } });
    // (events.once would reject on the 'error' events, so listen directly.)
    const t = await new Promise<{ text: string }>((resolve) => client!.on('transcript', resolve));
    assert.equal(t.text, 'still alive');
    assert.deepEqual(errors, ['RTMS_BAD_JSON', 'RTMS_UNKNOWN_MSG_TYPE', 'RTMS_BAD_MESSAGE']);
    assert.equal(client.state, 'ready');
  });

  it('a malformed UTF-8 sequence in a frame is decoded as U+FFFD, not a reason to drop the connection', { timeout: 5000 }, async () => {
    await setup();
    client = new RtmsClient(creds);
    await client.join(server.payload());
    const media = server.connections.find((c) => c.path.startsWith('/media'))!;
    const [head, tail] = ['{"msg_type":17,"content":{"user_id":1,"user_name":"A","data":"caf', '","timestamp":1}}'].map((t) => Buffer.from(t));
    media.ws.send(Buffer.concat([head, Buffer.from([0xc3, 0x28]), tail]), { binary: false }); // 0xC3 0x28: not UTF-8
    const t = await new Promise<{ text: string }>((resolve) => client!.on('transcript', resolve));
    assert.equal(t.text, 'caf\ufffd(');
    assert.equal(client.state, 'ready');
    assert.equal(client.stats.reconnects, 0);
  });

  it('subscribes to one participant video with VIDEO_SUBSCRIPTION_REQ', async () => {
    await setup();
    client = new RtmsClient(creds);
    await client.join(server.payload());
    const resp = await client.subscribeVideo(16778240);
    assert.equal(resp.msg_type, MsgType.VIDEO_SUBSCRIPTION_RESP);
    const req = server.signaling()[0].received.find((m) => m.msg_type === 28)!;
    assert.equal(req.user_id, 16778240);
  });

  it('iterates frames with for await until the client closes', async () => {
    await setup();
    client = new RtmsClient(creds);
    await client.join(server.payload());
    const seen: string[] = [];
    const loop = (async () => {
      for await (const t of client!.frames('transcript')) seen.push(t.text);
    })();
    server.broadcast('/media', { msg_type: 17, content: { data: 'one', timestamp: 1 } });
    server.broadcast('/media', { msg_type: 17, content: { data: 'two', timestamp: 2 } });
    await new Promise((r) => setTimeout(r, 100));
    await client.close();
    await loop;
    assert.deepEqual(seen, ['one', 'two']);
  });
});

describe('resilience', () => {
  it('re-opens only the media socket when it drops while signaling is up, then sends CLIENT_READY_ACK again', async () => {
    await setup();
    client = new RtmsClient({ ...creds, reconnect: fastReconnect });
    await client.join(server.payload());
    const rejoined = once(client, 'joined');
    server.openMedia()[0].ws.terminate();
    const [ev] = await rejoined;
    assert.equal(ev.reconnected, true);
    assert.equal(ev.scope, 'media');
    assert.equal(client.state, 'ready');
    assert.equal(server.signaling().length, 1, 'signaling stayed up');
    assert.equal(server.media().length, 2);
    assert.equal(client.stats.reconnects, 0);
    assert.equal(client.stats.mediaReconnects, 1);
    const acks = () => server.signaling()[0].received.filter((m) => m.msg_type === MsgType.CLIENT_READY_ACK).length;
    for (const deadline = Date.now() + 2000; acks() < 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
    assert.equal(acks(), 2);
  });

  it('reconnects after the signaling socket drops', async () => {
    await setup();
    client = new RtmsClient({ ...creds, reconnect: fastReconnect });
    await client.join(server.payload());
    const rejoined = once(client, 'joined');
    server.signaling()[0].ws.terminate();
    await rejoined;
    assert.equal(client.state, 'ready');
  });

  it('treats a socket silent past the keep-alive tolerance as dead and reconnects', async () => {
    await setup();
    client = new RtmsClient({ ...creds, reconnect: fastReconnect, keepAliveToleranceMs: { signaling: 300, media: 300 } });
    await client.join(server.payload());
    const [r] = await once(client, 'reconnecting');
    assert.equal(r.error.code, 'RTMS_KEEPALIVE_TIMEOUT');
    await once(client, 'joined');
  });

  it('stops on STREAM_STATE_UPDATE TERMINATED and reports the stop reason', async () => {
    await setup();
    client = new RtmsClient({ ...creds, reconnect: fastReconnect });
    await client.join(server.payload());
    server.broadcast('/signaling', { msg_type: 8, rtms_stream_id: 'stream-1', state: StreamState.TERMINATED, reason: StopReason.STOP_BC_MEETING_ENDED, timestamp: 1 });
    const closed = await client.whenClosed();
    assert.equal(closed.reason, 'stream-terminated');
    assert.equal(closed.stopReason, StopReason.STOP_BC_MEETING_ENDED);
    assert.equal(closed.error?.code, 'RTMS_STREAM_TERMINATED');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server.signaling().length, 1);
  });

  it('gives up with RTMS_RECONNECT_EXHAUSTED when the server stays away', async () => {
    await setup();
    client = new RtmsClient({ ...creds, reconnect: { ...fastReconnect, maxAttempts: 2 } });
    await client.join(server.payload());
    await server.close();
    const closed = await client.whenClosed();
    assert.equal(closed.reason, 'reconnect-exhausted');
    assert.equal(closed.error?.code, 'RTMS_RECONNECT_EXHAUSTED');
  });

  it('backoff grows exponentially within the jitter band and caps', () => {
    const p = { ...DEFAULT_RECONNECT, initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.3 };
    assert.equal(backoffDelay(1, p, () => 0.5), 100);
    assert.equal(backoffDelay(3, p, () => 0.5), 400);
    assert.equal(backoffDelay(10, p, () => 0.5), 1000);
    assert.equal(backoffDelay(1, p, () => 0), 70);
    assert.equal(backoffDelay(1, p, () => 1), 130);
  });
});

describe('leave', () => {
  it('sends STREAM_CLOSE_REQ and closes after STREAM_CLOSE_RESP', async () => {
    await setup();
    client = new RtmsClient(creds);
    await client.join(server.payload());
    const closed = await client.leave();
    assert.equal(closed.reason, 'left');
    assert.equal(closed.error, undefined);
    assert.ok(server.signaling()[0].received.some((m) => m.msg_type === MsgType.STREAM_CLOSE_REQ && m.rtms_stream_id === 'stream-1'));
    assert.equal(client.state, 'closed');
    assert.equal(await client.leave(), closed, 'leave twice is harmless');
  });

  it('closes anyway with RTMS_CLOSE_TIMEOUT when no response comes', async () => {
    await setup();
    client = new RtmsClient({ ...creds, closeTimeoutMs: 150 });
    await client.join(server.payload());
    // Swallow the request so no response is sent.
    server.signaling()[0].ws.removeAllListeners('message');
    const closed = await client.leave();
    assert.equal(closed.reason, 'left');
    assert.equal(closed.error?.code, 'RTMS_CLOSE_TIMEOUT');
  });
});
