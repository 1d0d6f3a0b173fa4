import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { GapFiller } from '../../src/media/gap-filler.js';
import { HEADER_INTERVAL_MS, WavWriter, parseWav } from '../../src/media/wav.js';
import { Recorder, fromSafeName, safeName } from '../../src/recorder/index.js';
import { attachPipeline } from '../../src/pipeline/index.js';
import { compileScenario, demoScenario, mixedPcm } from '../../src/emulator/scenario.js';
import { DataOption } from '../../src/protocol/index.js';
import { runEmulated } from '../helpers/harness.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'openrtms-rec-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('safeName', () => {
  it('encodes meeting UUIDs reversibly, never as a path', () => {
    assert.equal(safeName('a/b+c=='), 'a%2Fb%2Bc%3D%3D');
    assert.equal(safeName('..'), '%2E%2E');
    fc.assert(
      fc.property(fc.string(), (s) => {
        const n = safeName(s);
        assert.match(n, /^[A-Za-z0-9_%-]+$/);
        assert.equal(fromSafeName(n), s);
      }),
    );
  });
});

describe('gap filler', () => {
  it('absorbs jitter without drift over an hour of 20 ms frames', () => {
    const g = new GapFiller(1_000_000, 16000);
    let rand = 1;
    for (let i = 0; i < 180_000; i++) {
      rand = (rand * 48271) % 2147483647;
      const jitter = (rand % 7) - 3;
      const p = g.place(1_000_000 + i * 20 + jitter, 320);
      assert.equal(p.silence + p.skip, 0);
    }
    assert.equal(g.position, 3600 * 16000);
    assert.deepEqual(g.gaps, []);
  });
  it('fills a missing second with silence and trims duplicates', () => {
    const g = new GapFiller(0, 16000);
    g.place(0, 320);
    assert.deepEqual(g.place(1020, 320), { silence: 16000, skip: 0 });
    assert.deepEqual(g.gaps, [{ atMs: 20, durationMs: 1000 }]);
    assert.deepEqual(g.place(1020, 320), { silence: 0, skip: 320 }, 'a duplicate adds nothing');
    assert.equal(g.position, 320 + 16000 + 320);
  });
});

describe('Recorder manifest', () => {
  it('is rewritten every period when there is news, and only every quiet period when durations and counts alone changed', async () => {
    const dataDir = tmp();
    const t0 = Date.now();
    const r = new Recorder({ dataDir, info: { rtmsStreamId: 'quiet', product: 'meeting', meetingUuid: 'm', startedAt: t0 }, manifestMs: 100, manifestQuietMs: 1500 });
    const manifest = () => JSON.parse(readFileSync(join(r.dir, 'manifest.json'), 'utf8'));
    let ts = t0;
    const audio = setInterval(() => r.onAudio({ userId: 0, userName: '', data: Buffer.alloc(640), timestamp: (ts += 20), receivedAt: Date.now() }), 20);
    try {
      await new Promise((res) => setTimeout(res, 400));
      const first = manifest().counts.audio;
      assert.ok(first > 0, 'written once audio started');
      await new Promise((res) => setTimeout(res, 500));
      assert.equal(manifest().counts.audio, first, 'counts alone wait for the quiet period');
      r.onTranscript({ userId: 5, userName: 'Eve', text: 'hello', timestamp: ts, receivedAt: Date.now() });
      await new Promise((res) => setTimeout(res, 300));
      assert.deepEqual(manifest().participants.map((p: { user_name: string }) => p.user_name), ['Eve'], 'a new participant goes out within the period');
      const second = manifest().counts.audio;
      await new Promise((res) => setTimeout(res, 1700));
      assert.ok(manifest().counts.audio > second, 'and counts after the quiet period');
    } finally {
      clearInterval(audio);
      await r.close();
    }
    assert.equal(manifest().complete, true);
  });
});

describe('WAV writer', () => {
  it('writes a canonical header at the first flush, rewrites it every HEADER_INTERVAL_MS (not every flush), exact at close', async () => {
    const path = join(tmp(), 'x.wav');
    const w = new WavWriter(path, 16000, 1);
    w.write(Int16Array.from([1, -2, 3]));
    await w.flush();
    assert.deepEqual(Array.from(parseWav(readFileSync(path)).samples), [1, -2, 3]);
    w.write(Int16Array.from([7]));
    await w.flush();
    assert.equal(readFileSync(path).length, 44 + 8, 'the data is on disk');
    assert.equal(readFileSync(path).readUInt32LE(40), 6, 'the header waits for the interval');
    await new Promise((r) => setTimeout(r, HEADER_INTERVAL_MS));
    await w.flush();
    assert.equal(readFileSync(path).readUInt32LE(40), 8, 'then states every byte written');
    w.silence(2);
    w.write(Int16Array.from([4]));
    await w.close();
    const wav = parseWav(readFileSync(path));
    assert.deepEqual([wav.sampleRate, wav.channels, Array.from(wav.samples)], [16000, 1, [1, -2, 3, 7, 0, 0, 4]]);
    assert.equal(readFileSync(path).readUInt32LE(4), 36 + 14);
  });
});

async function record(opts: Parameters<typeof runEmulated>[0], clientOpts: Parameters<typeof runEmulated>[1] = {}) {
  const dataDir = tmp();
  const recorders: Recorder[] = [];
  const pipelines: ReturnType<typeof attachPipeline>[] = [];
  const result = await runEmulated(opts, clientOpts, {
    onJoined: (j) => {
      const info = { rtmsStreamId: String(j.payload.rtms_stream_id), product: 'meeting' as const, meetingUuid: String(j.payload.meeting_uuid), startedAt: Date.now() };
      const r = new Recorder({ dataDir, info });
      recorders.push(r);
      pipelines.push(attachPipeline(j.client, info, [r]));
    },
  });
  await Promise.all(pipelines.map((p) => p.close()));
  return { ...result, recorder: recorders[0], dir: recorders[0].dir };
}

describe('Recorder against the emulator', () => {
  it('writes the documented layout; mixed L16 audio is sample-exact and as long as the stream', async () => {
    const { dir, summary } = await record({ durationS: 8, fast: true });
    for (const f of ['manifest.json', 'audio/mixed.wav', 'transcript.jsonl', 'transcript.vtt', 'transcript.srt', 'events.jsonl']) assert.ok(existsSync(join(dir, f)), f);
    assert.match(dir, /recordings\/[0-9a-f]{32}$/);
    const wav = parseWav(readFileSync(join(dir, 'audio/mixed.wav')));
    assert.equal(wav.samples.length, 8 * 16000, 'duration equals the stream time');
    assert.deepEqual(wav.samples, mixedPcm(compileScenario(demoScenario(8), 1), 0, 8000));
    const lines = readFileSync(join(dir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, summary.sent.transcript);
    assert.equal(lines[0].user_name, 'Ada');
    assert.match(readFileSync(join(dir, 'transcript.vtt'), 'utf8'), /^WEBVTT\n\n1\n00:00:00\.500 --> 00:00:04\.\d{3}\n<v Ada>Good morning/);
    assert.match(readFileSync(join(dir, 'transcript.srt'), 'utf8'), /^1\n00:00:00,500 --> 00:00:04,\d{3}\nAda: Good morning/);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.complete, true);
    assert.equal(manifest.counts.audio, 400);
    assert.deepEqual(manifest.gaps, []);
    assert.ok(manifest.participants.some((p: { user_name: string }) => p.user_name === 'Ada'));
  });

  it('an outage becomes a recorded gap of silence; the file still spans the stream', async () => {
    const { dir, summary } = await record({ durationS: 4, faults: ['drop-media@1s'], keepAliveIntervalMs: 200 });
    const wav = parseWav(readFileSync(join(dir, 'audio/mixed.wav')));
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const missedMs = summary.missed.audio * 20;
    assert.ok(missedMs > 0, 'the fault cost some frames');
    assert.equal(manifest.gaps.length, 1);
    assert.ok(Math.abs(manifest.gaps[0].durationMs - missedMs) <= 40, `gap ${manifest.gaps[0].durationMs} ms vs ${missedMs} ms missed`);
    assert.ok(Math.abs(wav.samples.length / 16 - 4000) <= 40, `duration ${wav.samples.length / 16} ms`);
  });

  it('multi-stream audio: a file per speaker and a mixed sum', async () => {
    const { dir } = await record({ durationS: 10, fast: true }, { media: ['audio'], audio: { data_opt: DataOption.AUDIO_MULTI_STREAMS } });
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const perUser = manifest.files.filter((f: { path: string; user_id: unknown }) => f.path.startsWith('audio/') && f.user_id !== null);
    assert.ok(perUser.length >= 2, 'two speakers in the first 10 s');
    assert.ok(existsSync(join(dir, 'audio/mixed.wav')));
  });
});

describe('WAV writer under a slow disk', () => {
  it('bounds its memory, counts what it drops, and keeps the duration with silence', async () => {
    const path = join(tmp(), 'slow.wav');
    const w = new WavWriter(path, 16000, 1, 3200); // room for 100 ms
    const frame = Int16Array.from({ length: 320 }, () => 1000);
    for (let i = 0; i < 10; i++) w.write(frame); // 200 ms without a flush: the disk "fell behind"
    assert.equal(w.droppedSamples, 1600, 'half was dropped and counted');
    w.silence(20_000); // a long gap, larger than the queue
    for (let i = 0; i < 20; i++) await w.flush(); // the disk catches up; owed silence is paid in pieces
    w.write(frame);
    await w.close();
    const wav = parseWav(readFileSync(path));
    assert.equal(wav.samples.length, 10 * 320 + 20_000 + 320, 'duration kept');
    assert.equal(wav.samples[0], 1000);
    assert.equal(wav.samples[1600], 0, 'dropped audio became silence');
    assert.equal(wav.samples[wav.samples.length - 1], 1000, 'order kept: the last frame is last');
  });
});
