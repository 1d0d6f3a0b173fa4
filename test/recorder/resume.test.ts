/**
 * Takeover of a recording (cluster failover): a first Recorder is abandoned mid-stream as a killed
 * worker's would be (never closed), a second one with `resume` continues the same files. The audio
 * must keep its timeline (the time nobody received becomes one gap of exactly that length) and
 * transcript lines from both owners must all be in the captions.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWav } from '../../src/media/wav.js';
import { Recorder, finalizeRecording } from '../../src/recorder/index.js';
import type { StreamInfo } from '../../src/pipeline/index.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A 20 ms L16 frame whose samples all equal `value`, so each frame is recognisable in the file. */
const frame = (value: number) => Buffer.from(new Int16Array(320).fill(value).buffer);

describe('recorder resume (cluster takeover)', () => {
  it('continues the same WAV with the outage as one gap, and keeps every transcript line', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-resume-'));
    dirs.push(dataDir);
    const t0 = 1_700_000_000_000;
    const info: StreamInfo = { rtmsStreamId: 'stream/1', product: 'meeting', meetingUuid: 'm1', startedAt: t0 - 500 };
    const first = new Recorder({ dataDir, info });
    first.onJoined({ audio: { codec: 1, sample_rate: 1, channel: 1, data_opt: 1 } } as never);
    for (let i = 0; i < 100; i++) first.onAudio({ userId: 0, userName: '', data: frame(i + 1), timestamp: t0 + i * 20, receivedAt: 0 });
    first.onTranscript({ userId: 7, userName: 'Ada', text: 'before the crash', timestamp: t0 + 1000, startTime: t0, endTime: t0 + 1000 } as never);
    await sleep(1200); // two flushes: audio and transcript on disk; then the process "dies" (no close)

    // The new owner joins 1.5 s after the last frame the dead one received (frames 100..174 missed).
    const second = new Recorder({ dataDir, info: { ...info, resume: true } });
    second.onJoined({ audio: { codec: 1, sample_rate: 1, channel: 1, data_opt: 1 } } as never);
    for (let i = 175; i < 250; i++) second.onAudio({ userId: 0, userName: '', data: frame(i + 1), timestamp: t0 + i * 20, receivedAt: 0 });
    second.onTranscript({ userId: 7, userName: 'Ada', text: 'after the takeover', timestamp: t0 + 4900, startTime: t0 + 3600, endTime: t0 + 4900 } as never);
    await second.close();

    const dir = second.dir;
    const wav = parseWav(readFileSync(join(dir, 'audio', 'mixed.wav')));
    assert.equal(wav.samples.length, 250 * 320, 'the file spans the whole stream: 5 s');
    for (const i of [0, 50, 99, 175, 249]) assert.equal(wav.samples[i * 320 + 10], i + 1, `frame ${i} is at its own time`);
    for (const i of [100, 140, 174]) assert.equal(wav.samples[i * 320 + 10], 0, `frame ${i} (missed) is silence`);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.gaps, [{ track: 'mixed', atMs: 2000, durationMs: 1500 }]);
    assert.equal(manifest.complete, true);
    assert.equal(manifest.resumed_at.length, 1);
    assert.equal(manifest.counts.audio, 175, 'frame counts add up over both owners');
    assert.equal(manifest.started_at, new Date(t0).toISOString());
    const lines = readFileSync(join(dir, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).text);
    assert.deepEqual(lines, ['before the crash', 'after the takeover']);
    const vtt = readFileSync(join(dir, 'transcript.vtt'), 'utf8');
    assert.match(vtt, /before the crash[\s\S]*after the takeover/);
  });

  it('finalizes a recording whose writer died after the stream ended: exact headers, captions, complete manifest', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-finalize-'));
    dirs.push(dataDir);
    const t0 = 1_700_000_000_000;
    const info: StreamInfo = { rtmsStreamId: 'stream/2', product: 'meeting', meetingUuid: 'm2', startedAt: t0 };
    const dead = new Recorder({ dataDir, info, flushMs: 100 });
    dead.onJoined({ audio: { codec: 1, sample_rate: 1, channel: 1, data_opt: 1 } } as never);
    const audio = (from: number, to: number) => {
      for (let i = from; i < to; i++) dead.onAudio({ userId: 0, userName: '', data: frame(i + 1), timestamp: t0 + i * 20, receivedAt: 0 });
    };
    audio(0, 50);
    await sleep(300); // written with its header
    audio(50, 150);
    dead.onTranscript({ userId: 7, userName: 'Ada', text: 'said before the worker died', timestamp: t0 + 2000, startTime: t0 + 500, endTime: t0 + 2000 } as never);
    await sleep(300); // written, the header not rewritten yet (every 2 s); never closed
    const before = readFileSync(join(dead.dir, 'audio', 'mixed.wav'));
    assert.notEqual(before.readUInt32LE(40), before.length - 44, 'the dead writer left a stale header');

    const stoppedAt = t0 + 9000;
    assert.equal(await finalizeRecording({ dataDir, info, stoppedAt, cause: 'stop webhook' }), true);
    const dir = dead.dir;
    const bytes = readFileSync(join(dir, 'audio', 'mixed.wav'));
    assert.equal(bytes.readUInt32LE(40), bytes.length - 44, 'the header covers every byte');
    assert.equal(parseWav(bytes).samples.length, 150 * 320, 'audio as received, not padded to the stop');
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.complete, true);
    assert.equal(manifest.stopped_at, new Date(stoppedAt).toISOString());
    assert.ok(manifest.finalized_at);
    assert.equal(manifest.resumed_at, undefined, 'not a takeover');
    assert.match(readFileSync(join(dir, 'transcript.vtt'), 'utf8'), /said before the worker died/);
    assert.match(readFileSync(join(dir, 'transcript.srt'), 'utf8'), /said before the worker died/);
    const closed = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'closed');
    assert.deepEqual(closed.map((e) => [e.timestamp, e.reason, e.cause]), [[stoppedAt, 'finalized', 'stop webhook']]);
    assert.equal(await finalizeRecording({ dataDir, info, stoppedAt }), false, 'a complete recording is left alone');
    assert.equal(await finalizeRecording({ dataDir, info: { ...info, rtmsStreamId: 'never-recorded' }, stoppedAt }), false);
  });

  it('starts fresh when there is nothing to resume', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-resume-'));
    dirs.push(dataDir);
    const t0 = 1_700_000_000_000;
    const rec = new Recorder({ dataDir, info: { rtmsStreamId: 'fresh', product: 'meeting', meetingUuid: 'm', startedAt: t0, resume: true } });
    for (let i = 0; i < 10; i++) rec.onAudio({ userId: 0, userName: '', data: frame(1), timestamp: t0 + i * 20, receivedAt: 0 });
    await rec.close();
    const manifest = JSON.parse(readFileSync(join(rec.dir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.resumed_at, undefined);
    assert.equal(parseWav(readFileSync(join(rec.dir, 'audio', 'mixed.wav'))).samples.length, 3200);
  });
});
