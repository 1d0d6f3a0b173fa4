/**
 * End to end: the emulator's meeting (audio per participant) through the real server with two
 * speech-to-text providers — Deepgram and an OpenAI-compatible Whisper server, each a stand-in —
 * ends with three transcript tracks: stored, searchable with their source, in the API with
 * ?source=, as VTT and SRT, as files in the recording folder, and on the live feed.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../../src/emulator/index.js';
import { demoScenario } from '../../../src/emulator/scenario.js';
import { openStore } from '../../../src/store/open.js';
import { createRuntime } from '../../../src/server/runtime.js';
import { safeName } from '../../../src/recorder/paths.js';
import { parseTranscription } from '../../../src/intelligence/stt/config.js';
import type { LiveMessage } from '../../../src/live/types.js';
import { startDeepgramStandIn } from '../../helpers/stt/deepgram-server.js';
import { startOpenAiStandIn } from '../../helpers/stt/openai-server.js';
import { speechLines } from '../../helpers/stt/recognizer.js';

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});
const creds = { clientId: 'stt-client', clientSecret: 'stt-secret', secretToken: 'stt-token' };
const quiet = { info() {}, warn() {}, error() {} };

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('speech-to-text end to end', () => {
  it('a meeting transcribed by Deepgram and a Whisper server: three tracks everywhere a transcript goes', { timeout: 60_000 }, async () => {
    const dg = await startDeepgramStandIn({ apiKey: 'dg-key' });
    cleanups.push(() => dg.close());
    const oa = await startOpenAiStandIn({ apiKey: 'local', sampleRate: 16000 });
    cleanups.push(() => oa.close());
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-stt-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const store = await openStore({ dataDir, databaseUrl: null });
    const transcription = parseTranscription([
      { provider: 'deepgram', apiKey: 'dg-key', baseUrl: dg.url, model: 'nova-3' },
      { provider: 'openai', name: 'whisper', apiKey: 'local', baseUrl: oa.url, model: 'Systran/faster-whisper-small', chunkSeconds: 3 },
    ]);
    const runtime = createRuntime({ ...creds, webhookPath: '/webhook', store, dataDir, logger: quiet, transcription });
    const { url } = await runtime.app.listen(0, '127.0.0.1');
    cleanups.push(() => runtime.shutdown());
    const live: LiveMessage[] = [];
    runtime.bus.subscribe({ types: ['transcript'], deliver: (m) => live.push(...m) });

    const emu = new Emulator({ ...creds, webhookUrl: `${url}/webhook`, product: 'meeting', scenario: demoScenario(10), seed: 16 });
    await emu.start();
    cleanups.push(() => emu.close());
    const summary = await emu.run();
    assert.equal(summary.missed.audio, 0, 'speech-to-text slowed no ingestion');
    const id = emu.streams[0].id.rtmsStreamId;
    const dir = join(dataDir, 'recordings', safeName(id));
    const complete = () => {
      try {
        return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).complete === true;
      } catch {
        return false;
      }
    };
    await until(complete, 20_000, 'the recording to be complete');
    await until(async () => (await store.transcriptSources(id)).length === 3 && (await store.getStream(id))?.state === 'stopped', 10_000, 'three tracks stored');

    // What was said (the scenario's lines, in order), and by whom.
    const lines = speechLines();
    const spoken = demoScenario(10).timeline.filter((t) => t.type === 'speak').map((t) => lines.find((l) => l.text === (t as { text: string }).text)!);

    // Stand-ins: the protocol was followed; each Deepgram connection heard one participant.
    assert.deepEqual(dg.violations, []);
    assert.deepEqual(oa.violations, []);
    const speakers = new Set(spoken.map((l) => l.user_id));
    assert.equal(dg.connections.length, speakers.size, 'one Deepgram connection per participant who spoke');
    for (const c of dg.connections) assert.equal(new Set(c.recognized.map((r) => r.userId)).size, 1);

    // Store: the Deepgram track is every line, by its speaker; the Whisper track attributes every segment to the line's speaker.
    const deepgram = await store.transcript(id, { source: 'deepgram' });
    assert.deepEqual(deepgram.map((s) => [s.userName, s.text]), spoken.map((l) => [l.speaker, l.text]));
    assert.ok(deepgram.every((s) => s.source === 'deepgram' && s.words && s.words.length > 0));
    const whisper = await store.transcript(id, { source: 'whisper' });
    assert.ok(whisper.length >= spoken.length - 1, `${whisper.length} whisper segments`);
    for (const s of whisper) assert.ok(lines.some((l) => l.speaker === s.userName && l.text.includes(s.text)), `"${s.text}" attributed to ${s.userName}`);
    const zoom = await store.transcript(id, { source: 'zoom' });
    assert.ok(zoom.length > 0 && zoom.every((s) => s.source === 'zoom'));
    assert.equal((await store.transcript(id)).length, zoom.length + deepgram.length + whisper.length);

    // Search finds the first line in all three tracks and says which.
    const hits = await store.search('"quarterly roadmap"', { streamId: id });
    assert.deepEqual(hits.map((h) => h.source).sort(), ['deepgram', 'whisper', 'zoom']);

    // API.
    const get = async (path: string) => {
      const r = await fetch(`${url}${path}`);
      return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
    };
    const stream = JSON.parse((await get(`/api/streams/${encodeURIComponent(id)}`)).text);
    assert.deepEqual(stream.transcriptSources, ['zoom', 'deepgram', 'whisper']);
    // Per participant, only speech is sent: the lines' length, all of it.
    const speechMs = spoken.reduce((n, l) => n + l.length_samples / 16, 0);
    assert.ok(Math.abs(stream.stats.stt_deepgram_sent_ms - speechMs) < 300, `sent ${stream.stats.stt_deepgram_sent_ms} ms of ${speechMs} ms of speech`);
    assert.equal(stream.stats.stt_deepgram_dropped_ms, 0);
    const json = JSON.parse((await get(`/api/streams/${encodeURIComponent(id)}/transcript?source=deepgram`)).text);
    assert.equal(json.transcript.length, deepgram.length);
    assert.equal(json.transcript[0].source, 'deepgram');
    assert.ok(json.transcript[0].words.length > 3);
    const byDefault = JSON.parse((await get(`/api/streams/${encodeURIComponent(id)}/transcript`)).text);
    assert.ok(byDefault.transcript.every((s: { source: string }) => s.source === 'zoom'), 'default: Zoom\'s track');
    const vtt = await get(`/api/streams/${encodeURIComponent(id)}/transcript?format=vtt&source=deepgram`);
    assert.match(vtt.type, /text\/vtt/);
    assert.match(vtt.text, /^WEBVTT\n\n1\n00:00:0\d\.\d{3} --> 00:00:0\d\.\d{3}\n<v Ada>Good morning everyone/);
    const srt = await get(`/api/streams/${encodeURIComponent(id)}/transcript?format=srt&source=whisper`);
    assert.match(srt.text, /^1\n00:00:0\d,\d{3} --> 00:00:0\d,\d{3}\n\w+: /);
    const missing = await get(`/api/streams/${encodeURIComponent(id)}/transcript?source=assemblyai`);
    assert.equal(missing.status, 404);
    assert.match(missing.text, /has no transcript track \\"assemblyai\\" \(it has: zoom, deepgram, whisper\)/);

    // Recording folder: Zoom's files unchanged, one set per provider, listed in the manifest.
    for (const f of ['transcript.jsonl', 'transcript.vtt', 'transcript.deepgram.jsonl', 'transcript.deepgram.vtt', 'transcript.deepgram.srt', 'transcript.whisper.jsonl', 'transcript.whisper.vtt', 'transcript.whisper.srt']) assert.ok(existsSync(join(dir, f)), f);
    assert.equal(readFileSync(join(dir, 'transcript.deepgram.jsonl'), 'utf8').trim().split('\n').length, deepgram.length);
    assert.match(readFileSync(join(dir, 'transcript.deepgram.vtt'), 'utf8'), /<v Grace>The new ingestion service/);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.files.filter((f: { source?: string }) => f.source).map((f: { path: string }) => f.path).sort(), ['transcript.deepgram.jsonl', 'transcript.deepgram.srt', 'transcript.deepgram.vtt', 'transcript.whisper.jsonl', 'transcript.whisper.srt', 'transcript.whisper.vtt']);

    // Live feed: every transcript message says its track.
    const sources = new Set(live.map((m) => (m as { source: string }).source));
    assert.deepEqual([...sources].sort(), ['deepgram', 'whisper', 'zoom']);

    // Metrics.
    const metrics = await get('/metrics');
    assert.match(metrics.text, /openrtms_stt_segments\{source="deepgram"\} \d+/);
    assert.match(metrics.text, /openrtms_stt_audio_dropped_seconds\{source="deepgram"\} 0/);
  });
});
