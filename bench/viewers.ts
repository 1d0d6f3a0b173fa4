/**
 * What live viewers cost the server, against what recording the same meeting costs.
 *
 * One meeting at real cadence — mixed L16 audio (the demo's speech, a 20 ms frame every 20 ms), the
 * camera's H.264 at 25 fps and a screen share's at 5 fps (the emulator's clips) — is handed to the
 * sinks exactly as the client hands frames over, one configuration after the other in this process:
 *   none       nobody consumes the frames (the loop itself)
 *   recording  the Recorder: mixed WAV, camera and share MP4, manifest
 *   viewers    the LiveMediaSink with N viewers connected to the real `/api/live/media` WebSocket route
 *              (picture and mixed audio each), the viewers reading in a child process
 * CPU is this process's user + system time over the same window (every thread: the recorder's file
 * writes and the sockets' writes included); each cost is its phase minus `none`. Run each phase a few
 * times on a busy machine (`--rounds`); the median is reported.
 *
 * Run: `npx tsx bench/viewers.ts [--viewers 50] [--duration 10] [--rounds 3] [--batch 40[,100…]]`. Prints one JSON object.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readProcStat } from '../src/bench/proc.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadH264, loadSpeech } from '../src/media/assets.js';
import { LiveBus } from '../src/live/bus.js';
import { LiveMediaHub } from '../src/live/media.js';
import type { StreamInfo, StreamSink } from '../src/pipeline/types.js';
import { Recorder } from '../src/recorder/recorder.js';
import { createWebApp } from '../src/server/web.js';
import { openStore } from '../src/store/open.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const VIEWERS = arg('viewers', 50);
const DURATION_MS = arg('duration', 10) * 1000;
const ROUNDS = arg('rounds', 3);
/** `--batch 40` or several, `--batch 40,100`: a viewers phase per value in every round, to compare within one run. */
const BATCHES = (process.argv.includes('--batch') ? process.argv[process.argv.indexOf('--batch') + 1] : '40').split(',').map(Number);
const WARMUP_MS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const camera = loadH264('camera').accessUnits;
const share = loadH264('share').accessUnits;
const { pcm } = loadSpeech();
const speech = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
const params = { audio: { codec: 1, sample_rate: 1, channel: 1, data_opt: 1 }, video: { codec: 7, fps: 25 }, deskshare: { codec: 7, fps: 5 } };

const viewerCode = `
const WebSocket = require(process.env.WS_PATH);
let open = 0, bytes = 0;
const sockets = [];
for (let i = 0; i < Number(process.env.N); i++) {
  const ws = new WebSocket(process.env.URL);
  ws.on('open', () => { if (++open === Number(process.env.N)) process.send({ ready: true }); });
  ws.on('message', (d) => { bytes += d.length; });
  sockets.push(ws);
}
process.on('message', () => { for (const s of sockets) s.close(); process.send({ bytes }); setTimeout(() => process.exit(0), 100); });
`;

/** Plays the meeting into `sink` for warm-up + duration; returns the CPU ms of the measured window. */
async function play(sink: StreamSink | undefined): Promise<number> {
  sink?.onJoined?.(params as never, false);
  let th0: Map<string, number> | undefined;
  const t0 = performance.now();
  const epoch = Date.now();
  let tick = 0;
  let c0: NodeJS.CpuUsage | undefined;
  for (;;) {
    const t = tick * 20;
    if (t >= WARMUP_MS + DURATION_MS) break;
    if (!c0 && t >= WARMUP_MS) {
      c0 = process.cpuUsage();
      th0 = threadTimes();
    }
    const ts = epoch + t;
    const at = (t * 32) % (speech.length - 640);
    sink?.onAudio?.({ userId: 0, userName: '', data: speech.subarray(at - (at % 2), at - (at % 2) + 640), timestamp: ts, receivedAt: ts });
    if (t % 40 === 0) sink?.onVideo?.({ userId: 1, userName: 'A', kind: 'video', data: camera[(t / 40) % camera.length].data, timestamp: ts, receivedAt: ts });
    if (t % 200 === 0) sink?.onShare?.({ userId: 2, userName: 'B', kind: 'deskshare', data: share[(t / 200) % share.length].data, timestamp: ts, receivedAt: ts });
    tick++;
    const wait = t0 + tick * 20 - performance.now();
    if (wait > 1) await sleep(wait);
  }
  const c = process.cpuUsage(c0);
  if (process.env.BENCH_THREADS) {
    const th = threadTimes();
    console.error([...th].map(([k, v]) => `${k}:${v - (th0!.get(k) ?? 0)}`).join(' '), 'user', Math.round(c.user / 1000), 'sys', Math.round(c.system / 1000));
  }
  return (c.user + c.system) / 1000;
}

/** CPU ms per thread name of this process (Linux). */
function threadTimes(): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    const t = readProcStat(`/proc/self/task/${tid}/stat`);
    if (t) out.set(Number(tid) === process.pid ? 'main' : t.name, (out.get(t.name) ?? 0) + t.cpuMs);
  }
  return out;
}

const info = (id: string): StreamInfo => ({ rtmsStreamId: id, meetingUuid: `m-${id}`, product: 'meeting', startedAt: Date.now() });

async function none(): Promise<number> {
  return play(undefined);
}

async function recording(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'openrtms-viewers-rec-'));
  const rec = new Recorder({ dataDir: dir, info: info('rec') });
  const cpu = await play(rec);
  await rec.close();
  rmSync(dir, { recursive: true, force: true });
  return cpu;
}

async function viewers(batchMs: number): Promise<{ cpu: number; bytes: number; dropped: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'openrtms-viewers-web-'));
  const store = await openStore({ dataDir: dir, databaseUrl: null });
  const media = new LiveMediaHub({ batchMs });
  const web = createWebApp({ store, bus: new LiveBus(), media, dashboard: false });
  const url = await web.app.listen({ port: 0, host: '127.0.0.1' });
  const sink = media.sinkFor(info('live'));
  const child = VIEWERS
    ? spawn(process.execPath, ['-e', viewerCode], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, N: String(VIEWERS), URL: `${url.replace('http', 'ws')}/api/live/media?stream=live`, WS_PATH: createRequire(import.meta.url).resolve('ws') },
      })
    : undefined;
  if (child) await new Promise((r) => child.once('message', r));
  const cpu = await play(sink);
  let bytes = 0;
  if (child) {
    const got = new Promise<{ bytes: number }>((r) => child.once('message', r as never));
    child.send('stop');
    ({ bytes } = await got);
  }
  const s = media.stats;
  await sink.close();
  await web.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { cpu, bytes, dropped: s.droppedVideo + s.droppedAudio };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = { none: [] as number[], recording: [] as number[], viewers: BATCHES.map(() => [] as number[]) };
const bytes = BATCHES.map(() => 0);
const dropped = BATCHES.map(() => 0);
// Every round runs each phase once, in the same order, so a change of load hits all of them alike.
for (let r = 0; r < ROUNDS; r++) {
  if (!process.env.BENCH_ONLY_VIEWERS) {
    runs.none.push(await none());
    runs.recording.push(await recording());
  }
  for (const [i, b] of BATCHES.entries()) {
    const v = await viewers(b);
    runs.viewers[i].push(v.cpu);
    bytes[i] = v.bytes;
    dropped[i] += v.dropped;
  }
}
const base = runs.none.length ? median(runs.none) : NaN;
const recordingCost = median(runs.recording) - base;
const pct = (ms: number) => Math.round((ms / DURATION_MS) * 1000) / 10;
const cost = (i: number) => {
  const viewersCost = median(runs.viewers[i]) - base;
  return {
    batch_ms: BATCHES[i],
    cpu_ms: Math.round(viewersCost),
    core_percent: pct(viewersCost),
    per_viewer_core_percent: Math.round((pct(viewersCost) / VIEWERS) * 1000) / 1000,
    bytes_received: bytes[i],
    frames_dropped: dropped[i],
    viewers_vs_recording: recordingCost > 0 ? Math.round((viewersCost / recordingCost) * 100) / 100 : null,
  };
};
console.log(
  JSON.stringify(
    {
      viewers: VIEWERS,
      duration_s: DURATION_MS / 1000,
      rounds: ROUNDS,
      cpu_ms: { none: runs.none.map(Math.round), recording: runs.recording.map(Math.round), viewers: runs.viewers.map((xs) => xs.map(Math.round)) },
      recording_cost: { cpu_ms: Math.round(recordingCost), core_percent: pct(recordingCost) },
      viewers_cost: cost(0),
      viewers_vs_recording: cost(0).viewers_vs_recording,
      ...(BATCHES.length > 1 ? { by_batch: BATCHES.map((_, i) => cost(i)) } : {}),
    },
    null,
    2,
  ),
);
