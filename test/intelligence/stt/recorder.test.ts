/** The recording folder: transcript.<source>.jsonl|vtt|srt per speech-to-text track, in the manifest, kept across a takeover. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recorder } from '../../../src/recorder/recorder.js';
import type { StreamInfo, TrackSegment } from '../../../src/pipeline/types.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const T0 = 1_767_225_600_000;
const info: StreamInfo = { rtmsStreamId: 'rec-stt', product: 'meeting', meetingUuid: 'm', startedAt: T0 };
const seg = (text: string, at: number, userName = 'Ann'): TrackSegment => ({ source: 'deepgram', userId: 7, userName, text, timestamp: T0 + at, startTime: T0 + at, endTime: T0 + at + 900, words: [{ text, startTime: T0 + at, endTime: T0 + at + 900 }] });

describe('Recorder: speech-to-text tracks', () => {
  it('writes the track beside Zoom\'s files, in time order, lists it in the manifest, and a takeover continues it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-rec-stt-'));
    dirs.push(dataDir);
    const a = new Recorder({ dataDir, info, flushMs: 20 });
    a.onTranscript({ userId: 7, userName: 'Ann', text: 'zoom line', timestamp: T0 + 1000, receivedAt: T0 + 1000 });
    a.onTrackSegment(seg('second', 3000, 'Bob'));
    a.onTrackSegment(seg('first', 1000)); // another speaker's connection answered later
    await a.close();
    const dir = a.dir;
    const lines = readFileSync(join(dir, 'transcript.deepgram.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.user_name, l.text, l.start_time - T0, l.words.length]), [['Bob', 'second', 3000, 1], ['Ann', 'first', 1000, 1]]);
    assert.match(readFileSync(join(dir, 'transcript.deepgram.vtt'), 'utf8'), /^WEBVTT\n\n1\n00:00:01\.000 --> 00:00:01\.900\n<v Ann>first\n\n2\n00:00:03\.000 --> 00:00:03\.900\n<v Bob>second\n$/);
    assert.match(readFileSync(join(dir, 'transcript.deepgram.srt'), 'utf8'), /^1\n00:00:01,000 --> 00:00:01,900\nAnn: first\n/);
    assert.doesNotMatch(readFileSync(join(dir, 'transcript.vtt'), 'utf8'), /first|second/, 'Zoom\'s track is its own');
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.files.filter((f: { source?: string }) => f.source === 'deepgram').map((f: { path: string }) => f.path), ['transcript.deepgram.jsonl', 'transcript.deepgram.vtt', 'transcript.deepgram.srt']);

    // Another worker takes the stream over: the track continues, captions hold both connections' lines.
    const b = new Recorder({ dataDir, info: { ...info, resume: true }, flushMs: 20 });
    b.onTrackSegment(seg('third', 5000));
    await b.close();
    assert.match(readFileSync(join(dir, 'transcript.deepgram.vtt'), 'utf8'), /<v Ann>first[\s\S]*<v Bob>second[\s\S]*<v Ann>third/);
  });
});
