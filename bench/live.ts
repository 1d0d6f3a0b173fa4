/**
 * Live feed latency: 100 streams' worth of transcript and audio-level traffic through LiveSinks,
 * the LiveBus and the `/api/live` WebSocket endpoint to browser-like clients (JSON-parsing every
 * message) in a separate thread: one "firehose" client following every stream, and one client per
 * stream (a dashboard each). Latency = publication (the frame handed to the sink) → parsed by the
 * client, same machine clock.
 *
 * Run: `npx tsx bench/live.ts [--streams 100] [--participants 4] [--duration 10]`. Prints one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { LiveBus } from '../src/live/bus.js';
import { LiveSink } from '../src/live/sink.js';
import { Codec } from '../src/protocol/index.js';
import { createWebApp } from '../src/server/web.js';
import { openStore } from '../src/store/open.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const STREAMS = arg('streams', 100);
const PARTICIPANTS = arg('participants', 4);
const DURATION_S = arg('duration', 10);
const now = () => performance.timeOrigin + performance.now();

const dir = mkdtempSync(join(tmpdir(), 'openrtms-live-bench-'));
const store = await openStore({ dataDir: dir, databaseUrl: null });
const bus = new LiveBus();
const web = createWebApp({ store, bus, dashboard: false });
const url = await web.app.listen({ port: 0, host: '127.0.0.1' });

// Clients in their own thread, so their parsing does not share the server's event loop.
const clientCode = `
const { parentPort, workerData } = require('node:worker_threads');
const WebSocket = require(workerData.wsPath);
const now = () => performance.timeOrigin + performance.now();
const lat = { firehose: [], dashboards: [] };
let open = 0;
function client(path, bucket) {
  const ws = new WebSocket(workerData.url + path);
  ws.on('open', () => { if (++open === workerData.count) parentPort.postMessage({ ready: true }); });
  ws.on('message', (d) => {
    const m = JSON.parse(d);
    if (m.type === 'level' || m.type === 'transcript') lat[bucket].push(now() - m.timestamp);
  });
  return ws;
}
const sockets = [client('/api/live', 'firehose')];
for (let i = 0; i < workerData.streams; i++) sockets.push(client('/api/live?stream=s' + i, 'dashboards'));
parentPort.on('message', () => { for (const s of sockets) s.close(); parentPort.postMessage({ lat }); });
`;
const wsPath = createRequire(import.meta.url).resolve('ws');
const worker = new Worker(clientCode, { eval: true, workerData: { url: url.replace('http', 'ws'), streams: STREAMS, count: STREAMS + 1, wsPath } });
await new Promise<void>((resolve) => worker.once('message', () => resolve()));

const sinks = Array.from({ length: STREAMS }, (_, i) => {
  const s = new LiveSink(bus, { rtmsStreamId: `s${i}`, product: 'meeting', meetingUuid: `m${i}`, startedAt: Date.now() });
  s.onJoined({ audio: { codec: Codec.L16, sample_rate: 1, channel: 1, data_opt: 2 } });
  for (let p = 1; p <= PARTICIPANTS; p++) s.onEvent({ type: 'participant_join', timestamp: Date.now(), userId: p, userName: `P${p}` });
  return s;
});
// 20 ms of speech-like noise per participant frame (a fresh copy is not needed: L16 decoding is a view).
const frame = Buffer.alloc(640);
for (let i = 0; i < 320; i++) frame.writeInt16LE(Math.round((Math.random() * 2 - 1) * 8000), i * 2);

const cpu0 = process.cpuUsage();
const t0 = Date.now();
let tick = 0;
let frames = 0;
let lines = 0;
const timer = setInterval(() => {
  tick++;
  for (let i = 0; i < STREAMS; i++) {
    const sink = sinks[i];
    for (let p = 1; p <= PARTICIPANTS; p++) {
      sink.onAudio({ userId: p, userName: `P${p}`, data: frame, timestamp: 0, receivedAt: now() });
      frames++;
    }
    // one transcript line per stream every 2 s, spread over the streams
    if ((tick + i) % 100 === 0) {
      sink.onTranscript({ userId: 1, userName: 'P1', text: `line ${tick} of stream ${i}: the latency budget holds`, timestamp: now(), receivedAt: now() });
      lines++;
    }
  }
}, 20);
await new Promise((r) => setTimeout(r, DURATION_S * 1000));
clearInterval(timer);
const elapsed = (Date.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await new Promise((r) => setTimeout(r, 300)); // let the last messages arrive
worker.postMessage('stop');
const { lat } = await new Promise<{ lat: { firehose: number[]; dashboards: number[] } }>((resolve) => worker.on('message', (m) => m.lat && resolve(m)));
await worker.terminate();

const pct = (xs: number[], p: number) => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 10) / 10;
};
const stats = bus.stats;
const out = {
  streams: STREAMS,
  participants_per_stream: PARTICIPANTS,
  duration_s: Math.round(elapsed * 10) / 10,
  audio_frames_in: frames,
  transcript_lines: lines,
  published: stats.published,
  published_per_s: Math.round(stats.published / elapsed),
  firehose: { received: lat.firehose.length, latency_ms: { p50: pct(lat.firehose, 50), p99: pct(lat.firehose, 99), max: pct(lat.firehose, 100) } },
  dashboards: { clients: STREAMS, received: lat.dashboards.length, latency_ms: { p50: pct(lat.dashboards, 50), p99: pct(lat.dashboards, 99), max: pct(lat.dashboards, 100) } },
  dropped: stats.dropped,
  server_cpu_pct: Math.round(((cpu.user + cpu.system) / 1000 / (elapsed * 1000)) * 1000) / 10,
};
console.log(JSON.stringify(out, null, 2));
for (const s of sinks) await s.close();
await web.close();
await store.close();
bus.close();
rmSync(dir, { recursive: true, force: true });
