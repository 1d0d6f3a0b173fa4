import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LiveBus } from '../../src/live/bus.js';
import { LevelMeter, rmsDbfs, toDbfs } from '../../src/live/levels.js';
import { LiveSink } from '../../src/live/sink.js';
import { ThumbnailStore, findFfmpeg, h264Info } from '../../src/live/thumbnails.js';
import type { LiveMessage } from '../../src/live/types.js';
import { g711Encode } from '../../src/media/g711.js';
import { splitAccessUnits } from '../../src/media/assets.js';
import { Codec } from '../../src/protocol/index.js';
import type { StreamInfo } from '../../src/pipeline/types.js';

const info: StreamInfo = { rtmsStreamId: 'st-1', product: 'meeting', meetingUuid: 'm-1', startedAt: 1_000 };
const turn = () => new Promise((r) => setImmediate(r));

/** 20 ms of a 1 kHz sine at 16 kHz with the given peak amplitude, starting at sample `offset`. */
function sine(amplitude: number, offset = 0, n = 320): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 1000 * (i + offset)) / 16000));
  return out;
}
const bytes = (pcm: Int16Array) => Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);

function collect(bus: LiveBus) {
  const got: LiveMessage[] = [];
  bus.subscribe({ deliver: (b) => got.push(...b) });
  return got;
}

describe('audio levels', () => {
  it('full-scale sine is about -3 dBFS, -20 dB below it is -23, silence is the floor', () => {
    assert.ok(Math.abs(rmsDbfs(sine(32767)) - -3.01) < 0.05);
    assert.ok(Math.abs(rmsDbfs(sine(3277)) - -23.01) < 0.05);
    assert.equal(rmsDbfs(new Int16Array(320)), -100);
    const m = new LevelMeter();
    m.add(sine(32767));
    assert.ok(Math.abs(m.read().peak) < 0.01, 'peak of a full-scale sine is 0 dBFS');
    assert.equal(m.samples, 0, 'read() starts a new window');
  });

  it('peak and RMS count every sample: negative peaks, odd lengths, windows over several frames', () => {
    const m = new LevelMeter();
    m.add(Int16Array.from([0, 0, -32768])); // odd length, the peak in the last sample, negative
    assert.deepEqual(m.read(), { dbfs: -4.8, peak: 0 });
    m.add(Int16Array.from([-16384, 0]));
    m.add(Int16Array.from([100, 8192, -50]));
    const r = m.read();
    assert.equal(r.peak, -6);
    assert.equal(r.dbfs, toDbfs(Math.sqrt((16384 ** 2 + 100 ** 2 + 8192 ** 2 + 50 ** 2) / 5)));
  });

  it('LiveSink publishes ~10 level updates per second per participant from decoded L16', async () => {
    const bus = new LiveBus();
    const got = collect(bus);
    const sink = new LiveSink(bus, info);
    sink.onJoined({ audio: { codec: Codec.L16, sample_rate: 1, channel: 1, data_opt: 2 } });
    for (let i = 0; i < 100; i++) {
      // two speakers, 2 s of 20 ms frames: Ann at full scale, Bob 20 dB lower
      sink.onAudio({ userId: 1, userName: 'Ann', data: bytes(sine(32767, i * 320)), timestamp: i * 20, receivedAt: 10_000 + i * 20 });
      sink.onAudio({ userId: 2, userName: 'Bob', data: bytes(sine(3277, i * 320)), timestamp: i * 20, receivedAt: 10_000 + i * 20 });
    }
    await turn();
    const levels = got.filter((m) => m.type === 'level') as Extract<LiveMessage, { type: 'level' }>[];
    const ann = levels.filter((l) => l.userId === '1');
    const bob = levels.filter((l) => l.userId === '2');
    assert.ok(ann.length >= 18 && ann.length <= 20, `${ann.length} updates in 2 s`);
    assert.equal(ann.length, bob.length);
    for (const l of ann) assert.ok(Math.abs(l.dbfs - -3) < 0.1, `Ann at ${l.dbfs}`);
    for (const l of bob) assert.ok(Math.abs(l.dbfs - -23) < 0.1, `Bob at ${l.dbfs}`);
    assert.equal(ann[0].userName, 'Ann');
    assert.equal(sink.snapshot().participants.length, 0, 'levels alone do not make participants');
    await sink.close();
  });

  it('meters levels only while someone would receive them, and starts afresh when they do', async () => {
    const bus = new LiveBus();
    const transcripts = bus.subscribe({ types: ['transcript'], deliver: () => {} });
    const sink = new LiveSink(bus, info);
    sink.onJoined({ audio: { codec: Codec.L16, sample_rate: 1, channel: 1 } });
    const frame = (i: number, amplitude: number) => sink.onAudio({ userId: 1, userName: 'Ann', data: bytes(sine(amplitude, i * 320)), timestamp: i * 20, receivedAt: 10_000 + i * 20 });
    // Loud while nobody takes levels (the transcript subscriber does not): nothing is metered.
    for (let i = 0; i < 50; i++) frame(i, 32767);
    assert.equal(bus.stats.published, 1, 'only the stream-started notice');
    assert.deepEqual(sink.snapshot().participants, []);
    // Quiet once someone watches: the first level says -23 dBFS, not a mix with the loud second before.
    const got: LiveMessage[] = [];
    const watcher = bus.subscribe({ streamId: info.rtmsStreamId, types: ['level'], deliver: (b) => got.push(...b) });
    for (let i = 50; i < 100; i++) frame(i, 3277);
    await turn();
    const levels = got.filter((m) => m.type === 'level') as Extract<LiveMessage, { type: 'level' }>[];
    assert.ok(levels.length >= 9, `${levels.length} levels in 1 s`);
    for (const l of levels) assert.ok(Math.abs(l.dbfs - -23) < 0.1, `level ${l.dbfs}`);
    // Unwatched again: metering stops.
    watcher.close();
    const before = bus.stats.published;
    for (let i = 100; i < 150; i++) frame(i, 3277);
    assert.equal(bus.stats.published, before);
    transcripts.close();
    await sink.close();
  });

  it('decodes G.711 before measuring, and reports undecodable codecs', async () => {
    const bus = new LiveBus();
    const got = collect(bus);
    const errors: unknown[] = [];
    const sink = new LiveSink(bus, info, { onDecodeError: (e) => errors.push(e) });
    sink.onJoined({ audio: { codec: Codec.G711, sample_rate: 0, channel: 1 } });
    for (let i = 0; i < 10; i++) sink.onAudio({ userId: 0, userName: '', data: g711Encode(sine(16384, i * 160, 160), 'mulaw'), timestamp: 0, receivedAt: i * 20 });
    await turn();
    const l = got.find((m) => m.type === 'level') as Extract<LiveMessage, { type: 'level' }>;
    assert.ok(Math.abs(l.dbfs - -9) < 0.3, `G.711 half-scale sine at ${l.dbfs} dBFS`);
    assert.equal(l.userName, 'All (mixed)');
    sink.onJoined({ audio: { codec: 99, sample_rate: 1, channel: 1 } });
    assert.equal(errors.length, 1);
    await sink.close();
  });
});

describe('LiveSink messages', () => {
  it('transcript, chat, participants, active speaker, state, snapshot, stream start/end', async () => {
    const bus = new LiveBus();
    const got = collect(bus);
    const sink = new LiveSink(bus, info);
    sink.onEvent({ type: 'joined', timestamp: 1, data: { reconnected: false } });
    sink.onEvent({ type: 'participant_join', timestamp: 2, userId: 7, userName: 'Ann' });
    sink.onEvent({ type: 'participant_join', timestamp: 2, userId: 8, userName: 'Bob' });
    sink.onEvent({ type: 'active_speaker', timestamp: 3, userId: 7, userName: 'Ann' });
    sink.onTranscript({ userId: 7, userName: 'Ann', text: 'Hello there', timestamp: 4, receivedAt: 5 });
    sink.onChat({ userId: 8, userName: 'Bob', text: 'hi!', timestamp: 6, receivedAt: 6 });
    sink.onEvent({ type: 'participant_leave', timestamp: 7, userId: 8 });
    sink.onEvent({ type: 'reconnecting', timestamp: 8, data: { attempt: 1, code: 'RTMS_CONNECTION_LOST' } });
    sink.onEvent({ type: 'sharing_start', timestamp: 9, userId: 7 });
    const snap = bus.snapshot('st-1')!;
    assert.deepEqual(snap.participants.map((p) => p.userName), ['Ann']);
    assert.deepEqual(snap.activeSpeaker, { userId: '7', userName: 'Ann' });
    assert.equal(snap.state, 'reconnecting');
    await sink.close();
    await sink.close();
    assert.equal(bus.snapshot('st-1'), undefined);
    await turn();
    assert.deepEqual(
      got.map((m) => m.type + ('action' in m ? `:${m.action}` : '') + ('state' in m ? `:${m.state}` : '')),
      ['stream:started', 'state:joined', 'participant:join', 'participant:join', 'active_speaker', 'transcript', 'chat', 'participant:leave', 'state:reconnecting', 'event', 'stream:ended'],
    );
    const t = got.find((m) => m.type === 'transcript')!;
    assert.deepEqual(t, { type: 'transcript', streamId: 'st-1', source: 'zoom', userId: '7', userName: 'Ann', text: 'Hello there', timestamp: 4, startTime: undefined, endTime: undefined });
    assert.equal((got.find((m) => m.type === 'participant' && m.action === 'leave') as { userName: string }).userName, 'Bob', 'a leave without a name keeps the known one');
  });

  it('a speech-to-text segment is a transcript message with its source and word timings', async () => {
    const bus = new LiveBus();
    const got: LiveMessage[] = [];
    bus.subscribe({ types: ['transcript'], deliver: (m) => got.push(...m) });
    const sink = new LiveSink(bus, { rtmsStreamId: 'st-2', product: 'meeting', meetingUuid: 'm', startedAt: 0 });
    const words = [{ text: 'Hello', startTime: 10, endTime: 20, confidence: 0.9 }];
    sink.onTrackSegment({ source: 'deepgram', userId: 7, userName: 'Ann', text: 'Hello', timestamp: 10, startTime: 10, endTime: 20, words });
    await turn();
    assert.deepEqual(got, [{ type: 'transcript', streamId: 'st-2', source: 'deepgram', userId: '7', userName: 'Ann', text: 'Hello', timestamp: 10, startTime: 10, endTime: 20, words }]);
    await sink.close();
  });
});

describe('thumbnails', () => {
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
  it('keeps the latest JPG/PNG frame per kind, at most one notice per second', async () => {
    const bus = new LiveBus();
    const got = collect(bus);
    const thumbs = new ThumbnailStore();
    const sink = new LiveSink(bus, info, { thumbnails: thumbs, ffmpeg: false });
    for (let i = 0; i < 25; i++) sink.onVideo({ userId: 7, userName: 'Ann', data: jpeg, timestamp: 0, receivedAt: 5_000 + i * 100, kind: 'video' });
    sink.onShare({ userId: 7, userName: 'Ann', data: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]), timestamp: 0, receivedAt: 5_000, kind: 'deskshare' });
    await turn();
    const notices = got.filter((m) => m.type === 'thumbnail');
    assert.equal(notices.filter((n) => (n as { kind: string }).kind === 'video').length, 3, '2.5 s of frames → 3 notices');
    assert.equal(thumbs.get('st-1', 'video')!.contentType, 'image/jpeg');
    assert.equal(thumbs.get('st-1', 'deskshare')!.contentType, 'image/png');
    assert.deepEqual(sink.snapshot().thumbnails.map((t) => t.url), ['/api/streams/st-1/thumbnail/video', '/api/streams/st-1/thumbnail/deskshare']);
    await sink.close();
  });

  it('decodes the latest H.264 keyframe with ffmpeg', { skip: findFfmpeg() ? false : 'ffmpeg not on PATH' }, async () => {
    const units = splitAccessUnits(readFileSync(join(import.meta.dirname, '../../assets/video/camera.h264')));
    const key = units.find((u) => u.keyframe)!;
    assert.ok(h264Info(key.data).idr && h264Info(key.data).sps);
    const bus = new LiveBus();
    const got = collect(bus);
    const thumbs = new ThumbnailStore();
    const sink = new LiveSink(bus, info, { thumbnails: thumbs });
    sink.onVideo({ userId: 7, userName: 'Ann', data: units[1].data, timestamp: 0, receivedAt: Date.now(), kind: 'video' });
    sink.onVideo({ userId: 7, userName: 'Ann', data: key.data, timestamp: 0, receivedAt: Date.now(), kind: 'video' });
    const deadline = Date.now() + 5000;
    while (!got.some((m) => m.type === 'thumbnail') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const t = thumbs.get('st-1', 'video');
    assert.ok(t, 'a thumbnail was made');
    assert.equal(t.contentType, 'image/jpeg');
    assert.deepEqual([...t.data.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    await sink.close();
  });
});
