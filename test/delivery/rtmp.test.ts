import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attachPipeline, type PipelineHandle } from '../../src/pipeline/index.js';
import type { StreamInfo, StreamSink } from '../../src/pipeline/types.js';
import { validateScenario } from '../../src/emulator/scenario.js';
import { createRtmpDestination, type DeliveryLogger, type RtmpSink } from '../../src/delivery/rtmp.js';
import { ffmpegArgs, maskUrl } from '../../src/delivery/ffmpeg.js';
import { FlvVideoWriter, flvHeader } from '../../src/delivery/flv.js';
import { loadH264 } from '../../src/media/assets.js';
import type { RtmpDestinationConfig } from '../../src/delivery/types.js';
import type { Product } from '../../src/protocol/index.js';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Emulator } from '../../src/emulator/index.js';
import { createRuntime } from '../../src/server/runtime.js';
import { openStore } from '../../src/store/open.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEmulated } from '../helpers/harness.js';
import { probeFlv, rtmpUnavailable, startRtmpServer, type RtmpServer } from './rtmp-server.js';

const KEY = 'sk-live-0123456789abcdef';

/**
 * Two people speaking in turn: mixed audio from the start, camera video (25 fps, a keyframe every
 * second) from `cameraAtS` (0 = from the start).
 */
function meeting(durationS: number, cameraAtS = 0, cameraOffAtS?: number) {
  return validateScenario({
    name: 'restream',
    duration_s: durationS,
    participants: [
      { user_id: 1, user_name: 'Ada', video: cameraAtS === 0 },
      { user_id: 2, user_name: 'Grace', video: cameraAtS === 0 },
    ],
    timeline: [
      ...(cameraAtS > 0 ? [{ at: cameraAtS, type: 'video_on', user_id: 1 }, { at: cameraAtS, type: 'video_on', user_id: 2 }] : []),
      ...(cameraOffAtS ? [{ at: cameraOffAtS, type: 'video_off', user_id: 1 }, { at: cameraOffAtS, type: 'video_off', user_id: 2 }] : []),
      { at: 0.3, type: 'speak', user_id: 1, text: 'first line', duration: durationS / 2 - 0.5 },
      { at: durationS / 2, type: 'speak', user_id: 2, text: 'second line', duration: durationS / 2 - 0.5 },
    ],
  });
}

function captureLogger() {
  const lines: { level: string; msg: string; obj: object }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, msg: msg ?? '', obj });
  const logger: DeliveryLogger = { error: at('error'), warn: at('warn'), info: at('info') };
  return { logger, lines };
}

/** Counts what a sink next to the restream receives (the "other sinks"). */
function counter() {
  const c = { audio: 0, video: 0, closed: false };
  const sink: StreamSink = {
    onAudio: () => void c.audio++,
    onVideo: () => void c.video++,
    close: async () => void (c.closed = true),
  };
  return { c, sink };
}

async function restream(config: RtmpDestinationConfig, durationS: number, opts: { tuning?: object; cameraAtS?: number; cameraOffAtS?: number; product?: Product; during?: (sink: RtmpSink) => Promise<void> } = {}) {
  const { logger, lines } = captureLogger();
  const dest = createRtmpDestination(config, { logger, tuning: opts.tuning });
  const other = counter();
  let sink: RtmpSink | undefined;
  let pipeline: PipelineHandle | undefined;
  let during: Promise<void> | undefined;
  const t0 = Date.now();
  const result = await runEmulated({ scenario: meeting(durationS, opts.cameraAtS, opts.cameraOffAtS), product: opts.product }, opts.product ? {} : { media: ['audio', 'video'] }, {
    onJoined: (j) => {
      const info: StreamInfo = { rtmsStreamId: String(j.payload.rtms_stream_id), product: opts.product ?? 'meeting', meetingUuid: String(j.payload.meeting_uuid), startedAt: Date.now() };
      sink = dest.sinkFor(info);
      pipeline = attachPipeline(j.client, info, [sink, other.sink]);
      if (opts.during) during = opts.during(sink);
    },
  });
  await during;
  const statsBeforeClose = dest.stats();
  const stateBeforeClose = sink!.state;
  const closeStarted = Date.now();
  await pipeline!.close();
  const closeMs = Date.now() - closeStarted;
  const stats = dest.stats();
  await dest.close();
  return { result, sink: sink!, stats, statsBeforeClose, stateBeforeClose, lines, other: other.c, closeMs, wallS: (Date.now() - t0) / 1000 };
}

describe('rtmp destination: pure parts', () => {
  it('masks the stream key (last path segment and query) of the URL', () => {
    assert.equal(maskUrl(`rtmp://a.rtmp.youtube.com/live2/${KEY}`), 'rtmp://a.rtmp.youtube.com/live2/***');
    assert.equal(maskUrl(`rtmps://live.example:443/app/${KEY}?token=abc123`), 'rtmps://live.example:443/app/***');
    assert.equal(maskUrl('not a url'), '***');
  });

  it('ffmpeg copies the H.264 and encodes the PCM to AAC, on one clock (-copyts)', () => {
    const args = ffmpegArgs({ ffmpegPath: 'ffmpeg', url: 'rtmp://h/app/k', video: true, sampleRate: 16000, channels: 1 });
    const s = args.join(' ');
    assert.match(s, /-copyts .*-f flv -i pipe:0 .*-f s16le -ar 16000 -ac 1 -i pipe:3 .*-c:v copy -c:a aac .*-f flv rtmp:\/\/h\/app\/k$/);
    const audioOnly = ffmpegArgs({ ffmpegPath: 'ffmpeg', url: 'rtmp://h/app/k', video: false, sampleRate: 8000, channels: 1 }).join(' ');
    assert.doesNotMatch(audioOnly, /pipe:0|-c:v/);
    assert.match(audioOnly, /-ar 8000 -ac 1 -i pipe:3 -map 0:a:0/);
  });

  it('FLV tags carry the given timestamp and a sequence header before the first keyframe only', () => {
    const clip = loadH264('camera');
    const w = new FlvVideoWriter();
    const first = w.frame(clip.accessUnits[0].data, 0x01234567);
    assert.equal(first.keyframe, true);
    const tags = first.tags!;
    // Tag 1: sequence header (AVCPacketType 0); tag 2: the keyframe (type 1), both at the timestamp.
    assert.equal(tags[0], 9);
    assert.equal(tags[12], 0);
    const size1 = tags.readUIntBE(1, 3) + 11 + 4;
    assert.equal(tags.readUInt32BE(size1 - 4), size1 - 4);
    for (const o of [0, size1]) assert.equal((tags[o + 7] << 24) | tags.readUIntBE(o + 4, 3), 0x01234567);
    assert.equal(tags[size1 + 11], 0x17);
    assert.equal(tags[size1 + 12], 1);
    const second = w.frame(clip.accessUnits[1].data, 40);
    assert.equal(second.keyframe, false);
    assert.equal(second.tags![11], 0x27);
    assert.equal(w.frame(clip.accessUnits[25].data, 1000).tags![12], 1, 'same SPS/PPS: no new sequence header');
    assert.equal(flvHeader().subarray(0, 3).toString(), 'FLV');
  });
});

/** Video tags of an FLV: [timestamp, keyframe, AVCPacketType]. */
function flvTags(buf: Buffer): { ts: number; key: boolean; packetType: number }[] {
  const out: { ts: number; key: boolean; packetType: number }[] = [];
  for (let o = 13; o + 11 <= buf.length; ) {
    const size = buf.readUIntBE(o + 1, 3);
    if (buf[o] === 9) out.push({ ts: (buf[o + 7] << 24) | buf.readUIntBE(o + 4, 3), key: buf[o + 11] >> 4 === 1, packetType: buf[o + 12] });
    o += 11 + size + 4;
  }
  return out;
}

describe('rtmp destination: what reaches ffmpeg', () => {
  it('audio: a 1 s gap in the frames is filled with silence, sample-exact, so the AAC input stays continuous', async () => {
    // A stand-in that keeps the PCM pipe (fd 3); no video granted, so the run is audio only.
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-gap-'));
    const fake = join(dir, 'ffmpeg');
    writeFileSync(fake, `#!/bin/sh\nexec cat <&3 > ${join(dir, 'audio.pcm')}\n`);
    chmodSync(fake, 0o755);
    try {
      const dest = createRtmpDestination({ type: 'rtmp', name: 'gap', url: 'rtmp://127.0.0.1:1/live/x', ffmpegPath: fake });
      const sink = dest.sinkFor({ rtmsStreamId: 's', product: 'phone', meetingUuid: 'm', startedAt: 0 });
      sink.onJoined({ audio: { codec: 1, sample_rate: 1, channel: 1 } }, false);
      const t0 = Date.now();
      const frame = Buffer.alloc(640, 0x11); // 320 samples of 0x1111
      for (let i = 0; i < 100; i++) {
        if (i >= 30 && i < 80) continue; // frames 30..79 never arrive
        sink.onAudio({ userId: 0, userName: '', data: frame, timestamp: t0 + i * 20, receivedAt: t0 + i * 20 });
      }
      await sink.close();
      const pcm = readFileSync(join(dir, 'audio.pcm'));
      assert.equal(pcm.length, 100 * 640, '2 s of 16 kHz mono: the 1 s gap is there as samples');
      assert.ok(pcm.subarray(30 * 640, 80 * 640).every((b) => b === 0), 'the gap is silence');
      assert.ok(pcm.subarray(80 * 640).every((b) => b === 0x11), 'the frames after it follow it');
      assert.equal(sink.counts.delivered, 50);
      await dest.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('audio: when the mixed audio stops arriving, silence keeps the track going (1 s behind the clock)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-quiet-'));
    const fake = join(dir, 'ffmpeg');
    writeFileSync(fake, `#!/bin/sh\nexec cat <&3 > ${join(dir, 'audio.pcm')}\n`);
    chmodSync(fake, 0o755);
    try {
      const dest = createRtmpDestination({ type: 'rtmp', name: 'quiet', url: 'rtmp://127.0.0.1:1/live/x', ffmpegPath: fake });
      const sink = dest.sinkFor({ rtmsStreamId: 's', product: 'phone', meetingUuid: 'm', startedAt: 0 });
      sink.onJoined({ audio: { codec: 1, sample_rate: 1, channel: 1 } }, false);
      // RTMS clock 5 s ahead of ours: the padding must follow the stream's clock, not ours.
      const skew = 5000;
      const t0 = Date.now();
      for (let i = 0; i < 10; i++) sink.onAudio({ userId: 0, userName: '', data: Buffer.alloc(640, 0x11), timestamp: t0 + skew + i * 20, receivedAt: t0 });
      await new Promise((r) => setTimeout(r, 2600));
      const waitedMs = Date.now() - t0;
      await sink.close();
      const ms = readFileSync(join(dir, 'audio.pcm')).length / 32;
      assert.ok(ms >= waitedMs - 1000 - 600 && ms <= waitedMs - 1000 + 100, `${ms} ms of audio after ${waitedMs} ms with 200 ms of frames`);
      await dest.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('per-participant video: follows the active speaker, switching at the new speaker\'s next keyframe', async () => {
    // A stand-in ffmpeg that keeps what arrives on stdin (the FLV video input).
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-follow-'));
    const fake = join(dir, 'ffmpeg');
    writeFileSync(fake, `#!/bin/sh\nexec cat > ${join(dir, 'video.flv')}\n`);
    chmodSync(fake, 0o755);
    try {
      const dest = createRtmpDestination({ type: 'rtmp', name: 'follow', url: 'rtmp://127.0.0.1:1/live/x', ffmpegPath: fake });
      const sink = dest.sinkFor({ rtmsStreamId: 's', product: 'meeting', meetingUuid: 'm', startedAt: 0 });
      sink.onJoined({ audio: { codec: 1, sample_rate: 1, channel: 1 }, video: { codec: 7, data_opt: 4 } }, false);
      const clip = loadH264('camera').accessUnits;
      const t0 = 1_700_000_000_000;
      for (let i = 0; i < 100; i++) {
        if (i === 30) sink.onEvent({ type: 'active_speaker', timestamp: t0 + i * 40, userId: 2, userName: 'Grace' });
        // Ada's frames on even 40 ms steps (keyframes at 0, 50), Grace's 20 ms later (keyframes at 40, 90).
        sink.onVideo({ userId: 1, userName: 'Ada', data: clip[i % 50].data, timestamp: t0 + i * 40, receivedAt: Date.now(), kind: 'video' });
        sink.onVideo({ userId: 2, userName: 'Grace', data: clip[(i + 10) % 50].data, timestamp: t0 + i * 40 + 20, receivedAt: Date.now(), kind: 'video' });
      }
      await sink.close();
      const tags = flvTags(readFileSync(join(dir, 'video.flv'))).filter((t) => t.packetType === 1);
      const ada = tags.filter((t) => t.ts % 40 === 0).map((t) => t.ts / 40);
      const grace = tags.filter((t) => t.ts % 40 === 20).map((t) => (t.ts - 20) / 40);
      assert.deepEqual(ada, Array.from({ length: 41 }, (_, i) => i), 'Ada until Grace\'s keyframe (20 ms after her frame 40)');
      assert.deepEqual(grace, Array.from({ length: 60 }, (_, i) => 40 + i), 'Grace from her keyframe on');
      assert.ok(tags.find((t) => t.ts === 40 * 40 + 20)!.key);
      assert.equal(sink.counts.dropped, 0);
      await dest.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const unavailable = rtmpUnavailable();

describe('rtmp destination against nginx-rtmp', { skip: unavailable }, () => {
  let server: RtmpServer;
  before(async () => {
    server = await startRtmpServer({ append: true });
  });
  after(async () => server?.close());

  it('pushes H.264 video and AAC audio as long as the meeting, in sync; the key never reaches a log', async () => {
    const name = 'meeting1';
    // Cameras come on 1.5 s in: the video must start 1.5 s after the audio, not be pulled to zero.
    let startupMs = -1;
    const r = await restream({ type: 'rtmp', name: 'yt', url: `${server.base}/${name}-${KEY}` }, 6, {
      cameraAtS: 1.5,
      during: async (sink) => {
        // Live latency of the start: from the run starting (first keyframe) to the server recording it.
        while (sink.counts.runs === 0) await new Promise((res) => setTimeout(res, 5));
        const t0 = Date.now();
        while (!server.recordings().length && Date.now() - t0 < 5000) await new Promise((res) => setTimeout(res, 10));
        startupMs = Date.now() - t0;
      },
    });
    assert.ok(startupMs >= 0 && startupMs < 1500, `the server had the stream ${startupMs} ms after ffmpeg started`);
    await server.settled();
    const files = server.recordings();
    assert.equal(files.length, 1, `one recording: ${files} ${server.errorLog().slice(-500)}`);
    const p = probeFlv(files[0]);
    assert.deepEqual(p.codecs, ['aac', 'h264'], JSON.stringify(p));
    const video = p.streams.find((s) => s.codec === 'h264')!;
    const audio = p.streams.find((s) => s.codec === 'aac')!;
    assert.ok(Math.abs(p.duration - 6) <= 1.5, `recording ${p.duration} s for a 6 s meeting`);
    assert.ok(Math.abs(audio.duration - 6) <= 1.5, `audio ${audio.duration} s`);
    assert.ok(Math.abs(video.duration - 4.5) <= 1, `video ${video.duration} s`);
    // A/V sync: the first camera frame (a keyframe) is 1.5 s after the first audio, as it was sent.
    assert.ok(Math.abs(video.start - audio.start - 1.5) <= 0.1, `video starts at ${video.start}, audio at ${audio.start}`);
    assert.equal(r.stats.retried, 0);
    assert.equal(r.stats.failed, 0);
    assert.equal(r.stats.dropped, 0, 'nothing dropped on an idle machine');
    assert.equal(r.stats.queued, 0, 'everything written after close');
    const sent = r.result.summary.sent.audio + r.result.summary.sent.video;
    assert.ok(r.stats.delivered >= sent - 5 && r.stats.delivered <= sent, `delivered ${r.stats.delivered} of ${sent} frames`);
    assert.equal(r.sink.counts.runs, 1);
    const logged = JSON.stringify(r.lines);
    assert.ok(!logged.includes(KEY), 'stream key in a log line');
    assert.match(logged, /pushing video and audio to rtmp:\/\/127\.0\.0\.1:\d+\/live\/\*\*\*/);
    console.log(`restream: ${p.duration.toFixed(2)} s recorded, ${r.stats.delivered} frames, at the server ${startupMs} ms after ffmpeg started, close ${r.closeMs} ms, run ${r.wallS.toFixed(1)} s`);
  });

  it('restarts ffmpeg killed mid-stream at the next keyframe; the recording continues and the restart is counted', async () => {
    const name = 'meeting2';
    let killedPid: number | undefined;
    const r = await restream({ type: 'rtmp', name: 'twitch', url: `${server.base}/${name}` }, 8, {
      tuning: { backoffMs: 200 },
      during: async (sink) => {
        // Wait for the first run to push for a while, then kill it the hard way.
        const t0 = Date.now();
        while (sink.counts.delivered < 100 && Date.now() - t0 < 8000) await new Promise((res) => setTimeout(res, 50));
        killedPid = sink.ffmpegPid;
        assert.ok(killedPid, 'ffmpeg running');
        process.kill(killedPid, 'SIGKILL');
        while (sink.counts.runs < 2 && Date.now() - t0 < 8000) await new Promise((res) => setTimeout(res, 50));
        assert.notEqual(sink.ffmpegPid, killedPid);
      },
    });
    await server.settled();
    assert.equal(r.stats.retried, 1, JSON.stringify(r.stats));
    assert.equal(r.stats.failed, 0);
    assert.equal(r.sink.counts.runs, 2);
    assert.ok(r.lines.some((l) => l.level === 'warn' && /ffmpeg was killed \(SIGKILL\); restarting in 200 ms/.test(l.msg)), JSON.stringify(r.lines));
    const files = server.recordings().filter((f) => f.includes(name));
    assert.ok(files.length >= 1);
    // record_append: the second publish continues the same file after the first one's end.
    const p = probeFlv(files.at(-1)!);
    assert.deepEqual(p.codecs, ['aac', 'h264']);
    // Lost: what the killed ffmpeg held and had not sent yet, and the backoff (about 0.3 s here); audio
    // received while the new run waits for its keyframe is held and sent with it.
    assert.ok(p.duration >= 8 - 1.5 && p.duration <= 8 + 1, `recording ${p.duration} s of an 8 s meeting with one restart`);
    assert.equal(r.result.summary.missed.audio, 0);
    console.log(`restart: ${p.duration.toFixed(2)} s recorded of 8 s, ${JSON.stringify(r.stats)}`);
  });

  it('a missing ffmpeg is one counted error line; the stream and the other sinks are unaffected', async () => {
    const r = await restream({ type: 'rtmp', name: 'broken', url: `${server.base}/never-${KEY}`, ffmpegPath: '/nonexistent/ffmpeg' }, 3);
    const errors = r.lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, JSON.stringify(r.lines));
    assert.equal(errors[0].msg, `rtmp destination "broken": ffmpeg not found (install Debian's ffmpeg package or set ffmpegPath)`);
    assert.ok(!errors[0].msg.includes('\n'));
    assert.equal(r.stats.failed, 1);
    assert.equal(r.stats.retried, 0);
    assert.equal(r.stateBeforeClose, 'failed');
    const { sent, missed } = r.result.summary;
    assert.deepEqual([missed.audio, missed.video], [0, 0]);
    assert.equal(r.other.audio, sent.audio, 'the other sink got every audio frame');
    assert.equal(r.other.video, sent.video, 'the other sink got every video frame');
    assert.ok(!JSON.stringify(r.lines).includes(KEY));
    assert.equal(server.recordings().filter((f) => f.includes('never')).length, 0);
  });

  it('a missing ffmpeg is reported even for a stream that ends while its audio waits for video', async () => {
    const { logger, lines } = captureLogger();
    const dest = createRtmpDestination({ type: 'rtmp', name: 'short', url: `${server.base}/short`, ffmpegPath: '/nonexistent/ffmpeg' }, { logger });
    const sink = dest.sinkFor({ rtmsStreamId: 's', product: 'meeting', meetingUuid: 'm', startedAt: 0 });
    sink.onJoined({ audio: {}, video: { codec: 7 } }, false);
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) sink.onAudio({ userId: 0, userName: '', data: Buffer.alloc(640), timestamp: t0 + i * 20, receivedAt: t0 });
    assert.equal(sink.state, 'waiting', 'held for a keyframe');
    await dest.close();
    assert.deepEqual(lines.filter((l) => l.level === 'error').map((l) => l.msg), [`rtmp destination "short": ffmpeg not found (install Debian's ffmpeg package or set ffmpegPath)`]);
    assert.equal(dest.stats().failed, 1);
    assert.equal(sink.state, 'closed');
  });

  it('a camera that comes on after the wait for video: audio-only first, then a new run with video (not a failure)', async () => {
    const name = 'latecam';
    const r = await restream({ type: 'rtmp', name: 'late', url: `${server.base}/${name}` }, 6, { cameraAtS: 2.5, tuning: { videoWaitMs: 1000 } });
    await server.settled();
    assert.equal(r.sink.counts.runs, 2);
    assert.deepEqual([r.stats.retried, r.stats.failed], [0, 0]);
    const msgs = r.lines.map((l) => l.msg).join('\n');
    assert.match(msgs, /pushing audio only[\s\S]*video appeared; starting a new ffmpeg run[\s\S]*pushing video and audio/);
    const files = server.recordings().filter((f) => f.includes(name));
    const p = probeFlv(files.at(-1)!);
    assert.deepEqual(p.codecs, ['aac', 'h264'], JSON.stringify(p));
  });

  it('a refused connection: ffmpeg\'s own message is logged with the key masked, and the stream is given up after maxRestarts', async () => {
    const { logger, lines } = captureLogger();
    const dest = createRtmpDestination({ type: 'rtmp', name: 'refused', url: `rtmp://127.0.0.1:1/live2/${KEY}?auth=${KEY}` }, { logger, tuning: { maxRestarts: 0 } });
    const sink = dest.sinkFor({ rtmsStreamId: 's', product: 'phone', meetingUuid: 'm', startedAt: 0 });
    sink.onJoined({ audio: {} }, false);
    const t0 = Date.now();
    for (let i = 0; sink.state !== 'failed' && i < 500; i++) {
      sink.onAudio({ userId: 0, userName: '', data: Buffer.alloc(640), timestamp: t0 + i * 20, receivedAt: Date.now() });
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(sink.state, 'failed');
    await dest.close();
    const errors = lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, JSON.stringify(lines));
    assert.match(errors[0].msg, /^rtmp destination "refused": ffmpeg failed 1 time in a row; giving up on stream s \(last: exited with code 1: .*Connection refused/);
    assert.ok(!JSON.stringify(lines).includes(KEY), JSON.stringify(lines));
    assert.deepEqual([dest.stats().failed, dest.stats().retried], [1, 0]);
  });

  it('in the server runtime (extraSinks): one working and one broken restream, the recording and the store get everything', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-rtmp-runtime-'));
    const { logger, lines } = captureLogger();
    const store = await openStore({ dataDir, databaseUrl: null });
    const good = createRtmpDestination({ type: 'rtmp', name: 'good', url: `${server.base}/runtime-${KEY}` }, { logger });
    const broken = createRtmpDestination({ type: 'rtmp', name: 'broken', url: `${server.base}/never2`, ffmpegPath: '/nonexistent/ffmpeg' }, { logger });
    const creds = { clientId: 'rt', clientSecret: 'rt-secret', secretToken: 'rt-token' };
    const runtime = createRuntime({ ...creds, webhookPath: '/webhook', store, dataDir, extraSinks: (info) => [broken.sinkFor(info), good.sinkFor(info)] });
    const emu = new Emulator({ ...creds, webhookUrl: `${(await runtime.app.listen(0, '127.0.0.1')).url}/webhook`, scenario: meeting(5) });
    try {
      await emu.start();
      const final = await emu.run();
      await new Promise((r) => setTimeout(r, 300)); // the last media frames are read after the stop webhook
      await runtime.shutdown();
      const summary = emu.summary(final.duration_s, final.completed);
      assert.deepEqual([summary.missed.audio, summary.missed.video], [0, 0]);
      await server.settled();
      const p = probeFlv(server.recordings().find((f) => f.includes('runtime'))!);
      assert.deepEqual(p.codecs, ['aac', 'h264']);
      assert.ok(Math.abs(p.duration - 5) <= 1.5, `restream ${p.duration} s`);
      assert.deepEqual([good.stats().failed, broken.stats().failed], [0, 1]);
      assert.equal(lines.filter((l) => l.level === 'error').length, 1);
      // The recorder (another sink of the same stream) wrote the whole meeting.
      const [id] = readdirSync(join(dataDir, 'recordings'));
      const wav = readFileSync(join(dataDir, 'recordings', id, 'audio', 'mixed.wav'));
      const wavS = wav.readUInt32LE(40) / 32000;
      assert.ok(Math.abs(wavS - 5) <= 0.3, `mixed.wav ${wavS} s`);
      const manifest = JSON.parse(readFileSync(join(dataDir, 'recordings', id, 'manifest.json'), 'utf8'));
      const camera = manifest.files.find((f: { path: string }) => f.path === 'video/active.mp4');
      assert.equal(camera?.frames, summary.sent.video, 'the recorder got every camera frame');
    } finally {
      await emu.close();
      await good.close();
      await broken.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('cameras that go off mid-meeting do not hold the audio back, live: the last picture stays, the audio runs to the end', async () => {
    const name = 'camoff';
    let liveAudioS = 0;
    const r = await restream({ type: 'rtmp', name: 'off', url: `${server.base}/${name}` }, 6, {
      cameraOffAtS: 2,
      during: async (sink) => {
        // Live, not only in the final file: 3 s after the cameras went off, the server has audio past them.
        while (sink.counts.runs === 0) await new Promise((res) => setTimeout(res, 20));
        await new Promise((res) => setTimeout(res, 5000));
        const file = server.recordings().find((f) => f.includes(name));
        liveAudioS = file ? (probeFlv(file).streams.find((s) => s.codec === 'aac')?.duration ?? 0) : -1;
      },
    });
    assert.ok(liveAudioS >= 3.2, `audio at the server 5 s in: ${liveAudioS} s`);
    await server.settled();
    const p = probeFlv(server.recordings().find((f) => f.includes(name))!);
    const video = p.streams.find((s) => s.codec === 'h264')!;
    const audio = p.streams.find((s) => s.codec === 'aac')!;
    // The last picture stays (a keyframe repeated each second) and the audio goes on to the end.
    assert.ok(Math.abs(video.duration - 6) <= 1.5, `video ${video.duration} s`);
    assert.ok(Math.abs(audio.duration - 6) <= 1, `audio ${audio.duration} s`);
    assert.ok(r.sink.counts.frozen >= 2, `frozen ${r.sink.counts.frozen}`);
    assert.deepEqual([r.stats.retried, r.stats.failed, r.sink.counts.runs], [0, 0, 1]);
  });

  it('a Phone call (no video granted) goes out as audio only, as long as the call', async () => {
    const name = 'phone1';
    const r = await restream({ type: 'rtmp', name: 'audio', url: `${server.base}/${name}` }, 4, { product: 'phone' });
    await server.settled();
    assert.equal(r.result.summary.sent.video, 0);
    const files = server.recordings().filter((f) => f.includes(name));
    assert.equal(files.length, 1);
    const p = probeFlv(files[0]);
    assert.deepEqual(p.codecs, ['aac']);
    assert.ok(Math.abs(p.streams[0].duration - 4) <= 1, `audio ${p.streams[0].duration} s of a 4 s call`);
    assert.match(JSON.stringify(r.lines), /pushing audio only/);
    assert.deepEqual([r.stats.retried, r.stats.failed], [0, 0]);
  });

  it('an ffmpeg that stops reading: video dropped to keyframes and counted, the stuck run killed and restarted, the reader never waits', async () => {
    // A stand-in that starts and never reads its pipes (as ffmpeg does when the server stops taking data).
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-stall-'));
    const fake = join(dir, 'ffmpeg');
    writeFileSync(fake, '#!/bin/sh\nexec sleep 60\n');
    chmodSync(fake, 0o755);
    try {
      const r = await restream({ type: 'rtmp', name: 'stuck', url: `${server.base}/stuck-${KEY}`, ffmpegPath: fake }, 5, {
        tuning: { maxVideoQueueMs: 300, maxAudioQueueMs: 1000, backoffMs: 100, stopTimeoutMs: 1000 },
      });
      assert.ok(r.statsBeforeClose.dropped > 20, `dropped ${r.statsBeforeClose.dropped}`);
      assert.ok(r.statsBeforeClose.retried >= 1, `retried ${r.statsBeforeClose.retried}`);
      assert.ok(r.lines.some((l) => /ffmpeg stopped reading; restarting it/.test(l.msg)));
      // Bounded: what waits is at most a few seconds of media, not the whole meeting.
      assert.ok(r.statsBeforeClose.queued < 250, `queued ${r.statsBeforeClose.queued}`);
      const { sent, missed } = r.result.summary;
      assert.deepEqual([missed.audio, missed.video], [0, 0]);
      assert.equal(r.other.audio, sent.audio);
      assert.equal(r.other.video, sent.video);
      // close(): the pipes are closed, the stand-in ignores it and is killed after stopTimeoutMs.
      assert.ok(r.closeMs >= 900 && r.closeMs < 4000, `close took ${r.closeMs} ms`);
      assert.ok(r.lines.some((l) => /did not finish within 1000 ms and was killed/.test(l.msg)), JSON.stringify(r.lines));
      console.log(`stall: ${JSON.stringify(r.statsBeforeClose)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
