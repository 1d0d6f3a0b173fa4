import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { creds, fastReconnect, runEmulated } from '../helpers/harness.js';
import { RtmsClient } from '../../src/client/index.js';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario, compileScenario, mixedPcm } from '../../src/emulator/scenario.js';
import { createAudioDecoder } from '../../src/media/codec.js';
import { bytesToPcm } from '../../src/media/l16.js';
import { Codec, DataOption, ChatGroupEventType, EventType, MsgType, SampleRate, SessionState, StreamState, TranscriptLanguage } from '../../src/protocol/index.js';

/** Starts an emulator whose single stream is joined by `client`; resolves once media flows. */
async function live(client: RtmsClient, opts: { durationS?: number } = {}) {
  const emulator = new Emulator({
    ...creds,
    secretToken: 't',
    scenario: demoScenario(opts.durationS ?? 30),
    onWebhook: (body) => {
      if (String(body.event).endsWith('rtms_started')) client.join(body.payload as never).catch(() => {});
    },
  });
  await emulator.start();
  const running = emulator.run();
  await once(client, 'joined');
  return { emulator, running };
}

describe('media parameters: every audio codec and data option', () => {
  const cases = [
    { name: 'L16 16 kHz mono (default)', audio: {}, rate: 16000, channels: 1 },
    { name: 'L16 48 kHz stereo', audio: { sample_rate: SampleRate.SR_48K, channel: 2 }, rate: 48000, channels: 2 },
    { name: 'G.711 8 kHz', audio: { codec: Codec.G711, sample_rate: SampleRate.SR_8K }, rate: 8000, channels: 1 },
    { name: 'G.722 16 kHz', audio: { codec: Codec.G722 }, rate: 16000, channels: 1 },
    { name: 'Opus 48 kHz stereo', audio: { codec: Codec.OPUS, sample_rate: SampleRate.SR_48K, channel: 2 }, rate: 48000, channels: 2 },
  ];
  for (const c of cases) {
    it(`${c.name}: frames decode to 20 ms of PCM`, async () => {
      const frames: Buffer[] = [];
      const { joined } = await runEmulated({ durationS: 1, fast: true }, { media: ['audio'], audio: c.audio }, { onJoined: (j) => j.client.on('audio', (f) => frames.push(f.data)) });
      assert.equal(frames.length, 50);
      const granted = joined[0].client.grantedMediaParams.audio!;
      const decoder = createAudioDecoder(granted.codec!, c.rate, c.channels);
      for (const f of frames.slice(0, 10)) assert.equal(decoder.decode(f).length, (c.rate / 50) * c.channels);
    });
  }

  it('L16 mixed audio is sample-exact with the scenario', async () => {
    const frames: { data: Buffer; timestamp: number }[] = [];
    await runEmulated({ durationS: 6, fast: true }, { media: ['audio'] }, { onJoined: (j) => j.client.on('audio', (f) => frames.push(f)) });
    const plan = compileScenario(demoScenario(6), 1);
    const got = Buffer.concat(frames.map((f) => f.data));
    const want = mixedPcm(plan, 0, 6000);
    assert.deepEqual(bytesToPcm(got), want);
    assert.ok(want.some((s) => s !== 0), 'there is speech in the first 6 s');
  });

  it('multi-stream audio carries each speaker\'s user_id (at most 3 per interval)', async () => {
    const { joined } = await runEmulated({ durationS: 6, fast: true }, { media: ['audio'], audio: { data_opt: DataOption.AUDIO_MULTI_STREAMS } });
    const users = [...joined[0].audioUsers];
    assert.ok(users.length >= 1);
    assert.ok(!users.includes(0), 'no mixed track in multi-stream mode');
  });

  it('rejects invalid parameters with a typed error (Opus at 16 kHz)', async () => {
    const { joined } = await runEmulated({ durationS: 1, fast: true, waitForClientMs: 300 }, { media: ['audio'], audio: { codec: Codec.OPUS, sample_rate: SampleRate.SR_16K }, reconnect: { enabled: false } });
    const closed = await joined[0].closed;
    assert.equal(closed.error?.code, 'RTMS_HANDSHAKE_FAILED');
    assert.match(closed.error!.message, /Opus requires 48 kHz/);
  });

  it('JPG camera frames and PNG share frames at most 5 fps', async () => {
    const video: Buffer[] = [];
    await runEmulated({ durationS: 2, fast: true }, { media: ['video'], video: { codec: Codec.JPG, fps: 5 } }, { onJoined: (j) => j.client.on('video', (f) => video.push(f.data)) });
    assert.equal(video.length, 10);
    assert.equal(video[0][0], 0xff);
    assert.equal(video[0][1], 0xd8, 'JPEG SOI marker');
  });

  it('one media socket per kind when asked', async () => {
    const { summary, joined } = await runEmulated({ durationS: 1, fast: true }, { media: ['audio', 'transcript', 'video'], socketMode: 'per-kind' });
    assert.equal(summary.connections.media, 3);
    assert.equal(joined[0].client.stats.frames.audio, 50);
  });

  it('transcript src_language and enable_lid are requested and honoured', async () => {
    const { joined } = await runEmulated({ durationS: 5, fast: true }, { media: ['transcript'], transcript: { src_language: TranscriptLanguage.GERMAN } });
    const t = joined[0].transcripts[0];
    assert.equal(t.language, TranscriptLanguage.GERMAN);
    assert.equal(joined[0].client.grantedMediaParams.transcript?.enable_lid, false);
  });
});

describe('signaling requests and events', () => {
  it('SESSION_STATE_REQ, STREAM_STATE_REQ, VIDEO_SUBSCRIPTION_REQ and STREAM_CLOSE_REQ', async () => {
    const client = new RtmsClient({ ...creds, reconnect: fastReconnect });
    const { emulator, running } = await live(client);
    try {
      const session = await client.requestSessionState();
      assert.equal(session.msg_type, MsgType.SESSION_STATE_RESP);
      assert.equal(session.session_state, SessionState.STARTED);
      const stream = await client.requestStreamState();
      assert.equal(stream.state, StreamState.ACTIVE);
      const sub = await client.subscribeVideo(16779264);
      assert.equal(sub.status_code, 0);
      const [frame] = await once(client, 'video');
      assert.equal(frame.userId, 16779264, 'video now follows the subscribed participant');
      const closed = await client.leave();
      assert.equal(closed.reason, 'left');
      assert.equal(closed.error, undefined);
      const summary = await running;
      assert.equal(summary.per_stream[0].ended_by, 'client');
      assert.ok(summary.duration_s < 10, 'the stream ended when the client asked');
    } finally {
      await client.close();
      await emulator.close();
    }
  });

  it('EVENT_SUBSCRIPTION subscribes and unsubscribes event types', async () => {
    const types = new Set<number>();
    // The demo also sends chat-group events (10–14, July 2026): unsubscribed too.
    const off = [EventType.PARTICIPANT_JOIN, EventType.PARTICIPANT_LEAVE, EventType.FIRST_PACKET_TIMESTAMP, EventType.PARTICIPANT_VIDEO_ON, ...Object.values(ChatGroupEventType)];
    const { joined } = await runEmulated(
      { durationS: 6, fast: true },
      { subscribeEvents: [EventType.ACTIVE_SPEAKER_CHANGE], unsubscribeEvents: off },
      { onJoined: (j) => j.client.on('event', (e) => types.add(e.event_type)) },
    );
    assert.ok(joined[0].client.stats.frames.audio > 0);
    assert.deepEqual([...types], [EventType.ACTIVE_SPEAKER_CHANGE]);
  });

  it('participant and active-speaker events reach the client', async () => {
    const speakers: string[] = [];
    const joins: string[] = [];
    await runEmulated({ durationS: 6, fast: true }, {}, {
      onJoined: (j) => {
        j.client.on('activeSpeaker', (s) => speakers.push(s.userName));
        j.client.on('participant', (p) => p.action === 'join' && joins.push(...p.participants.map((x) => x.userName)));
      },
    });
    assert.deepEqual([...new Set(joins)].sort(), ['Ada', 'Grace', 'Linus', 'Margaret']);
    assert.equal(speakers[0], 'Ada');
  });

  it('keep-alives on both sockets are answered', async () => {
    const { summary } = await runEmulated({ durationS: 2, keepAliveIntervalMs: 100 });
    // Requests go only where no data flows: the signaling socket, about every 100 ms.
    assert.ok(summary.keepalive.sent >= 12, `sent ${summary.keepalive.sent}`);
    assert.equal(summary.keepalive.missed, 0);
    assert.ok(summary.keepalive.answered >= summary.keepalive.sent - 4);
  });
});
