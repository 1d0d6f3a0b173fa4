// Issue #5's acceptance run: a 20-minute emulated meeting (fast) with 4 participants, recorded and
// stored, checked against exactly what the emulator sent — on SQLite and on the real PostgreSQL.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Recorder } from '../../src/recorder/index.js';
import { attachPipeline } from '../../src/pipeline/index.js';
import { StoreSink } from '../../src/store/sink.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';
import { compileScenario, demoScenario, mixedPcm } from '../../src/emulator/scenario.js';
import { parseWav } from '../../src/media/wav.js';
import { runEmulated } from '../helpers/harness.js';

const MINUTES = 20;
const PG_URL = process.env.OPENRTMS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const ffprobe = (file: string) => {
  try {
    const out = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_packets', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_packets:format=duration', '-of', 'json', file], { encoding: 'utf8' }));
    return { frames: Number(out.streams[0].nb_read_packets), duration: Number(out.format.duration) };
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
};

async function meeting(store: Store) {
  const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-long-'));
  dirs.push(dataDir);
  let recorder: Recorder | undefined;
  let pipeline: ReturnType<typeof attachPipeline> | undefined;
  let streamId = '';
  const result = await runEmulated({ durationS: MINUTES * 60, fast: true }, { media: ['audio', 'video', 'transcript', 'chat'] }, {
    onJoined: (j) => {
      streamId = String(j.payload.rtms_stream_id);
      const info = { rtmsStreamId: streamId, product: 'meeting' as const, meetingUuid: String(j.payload.meeting_uuid), startedAt: Date.now() };
      recorder = new Recorder({ dataDir, info });
      pipeline = attachPipeline(j.client, info, [recorder, new StoreSink(store, info)]);
    },
  });
  await pipeline!.close();
  return { ...result, dir: recorder!.dir, streamId };
}

async function check(store: Store) {
  const { dir, summary, streamId } = await meeting(store);
  const seconds = MINUTES * 60;
  // Audio: exact duration and sample-exact content (L16).
  const wav = parseWav(readFileSync(join(dir, 'audio', 'mixed.wav')));
  assert.equal(wav.samples.length, seconds * 16000, 'WAV duration equals the meeting to the sample');
  const want = mixedPcm(compileScenario(demoScenario(seconds), 1), 0, seconds * 1000);
  let firstDiff = -1;
  for (let i = 0; i < want.length; i++) if (wav.samples[i] !== want[i]) { firstDiff = i; break; }
  assert.equal(firstDiff, -1, `mixed audio differs from what the emulator sent from sample ${firstDiff} (${(firstDiff / 16000).toFixed(3)} s): got ${wav.samples[firstDiff]}, want ${want[firstDiff]}`);
  // Video: every frame, the right duration.
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const camera = manifest.files.find((f: { path: string }) => f.path === 'video/active.mp4');
  assert.equal(camera.frames, summary.sent.video);
  const probed = ffprobe(join(dir, 'video', 'active.mp4'));
  if (probed) {
    assert.equal(probed.frames, summary.sent.video, 'ffprobe counts every frame');
    assert.ok(Math.abs(probed.duration - seconds) <= 0.1, `MP4 lasts ${probed.duration} s`);
  }
  // Captions parse: one cue per transcript line.
  const vtt = readFileSync(join(dir, 'transcript.vtt'), 'utf8');
  assert.ok(vtt.startsWith('WEBVTT\n'));
  assert.equal(vtt.match(/^\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}$/gm)?.length, summary.sent.transcript);
  const srt = readFileSync(join(dir, 'transcript.srt'), 'utf8');
  assert.equal(srt.match(/^\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}$/gm)?.length, summary.sent.transcript);
  // Store rows equal what was sent.
  assert.equal((await store.transcript(streamId)).length, summary.sent.transcript);
  // Chat is stored in its final state: the demo's edits, reactions and deletes are applied, not rows.
  const chatItems = demoScenario(seconds).timeline.filter((i) => i.type === 'chat');
  assert.equal(summary.sent.chat, chatItems.length);
  const surviving = chatItems.filter((i) => (i.operation ?? 'new') === 'new').length - chatItems.filter((i) => i.operation === 'delete').length;
  assert.equal((await store.chat(streamId)).length, surviving);
  assert.ok((await store.search('"latency budget"', { streamId })).length > 0);
  assert.deepEqual(summary.missed, { audio: 0, video: 0, share: 0, transcript: 0, chat: 0, events: 0 });
}

describe(`a ${MINUTES}-minute meeting, recorded and stored`, () => {
  it('SQLite', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-long-db-'));
    dirs.push(dataDir);
    const store = await openStore({ dataDir, databaseUrl: null });
    try {
      await check(store);
    } finally {
      await store.close();
    }
  });

  it('PostgreSQL', async (t) => {
    const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
    try {
      await admin.connect();
    } catch (err) {
      t.skip(`PostgreSQL not reachable at ${PG_URL} (${(err as { code?: string }).code})`);
      return;
    }
    const schema = `openrtms_long_${process.pid}`;
    const store = new PostgresStore({ connectionString: PG_URL, schema });
    try {
      await store.migrate();
      await check(store);
    } finally {
      await store.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  });
});
