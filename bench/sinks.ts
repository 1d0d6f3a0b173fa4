// What each sink of the serve pipeline costs per audio frame, without sockets or a sender: N streams
// at real cadence (one 20 ms L16 frame per stream per tick, a transcript line every 3 s), handed to
// the sinks exactly as the client hands them over, one configuration after the other in this process.
// CPU (after a 2 s warm-up in which every stream creates its files) is this process's (all threads: file-system writes included), so the figure is the sink's own
// work and not the sender's or the network's; run it when comparing a change to a sink.
//
//   npx tsx bench/sinks.ts [--streams 200] [--duration 10] [--only recorder,live]
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readProcStat } from '../src/bench/proc.js';
import { LiveBus } from '../src/live/bus.js';
import { LiveSink } from '../src/live/sink.js';
import { MetricsSink, OpenRtmsMetrics } from '../src/metrics/index.js';
import type { StreamInfo, StreamSink } from '../src/pipeline/types.js';
import { Recorder } from '../src/recorder/recorder.js';
import { StoreSink } from '../src/store/sink.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/types.js';

const { values } = parseArgs({ options: { streams: { type: 'string', default: '200' }, duration: { type: 'string', default: '10' }, only: { type: 'string' } } });
const streams = Number(values.streams);
const durationMs = Number(values.duration) * 1000;
const FRAME_MS = 20;
const WARMUP_MS = 2000;

type Make = (ctx: { store: Store; bus: LiveBus; metrics: OpenRtmsMetrics; dir: string; info: StreamInfo }) => StreamSink[];
const configs: Record<string, Make> = {
  none: () => [],
  store: ({ store, info }) => [new StoreSink(store, info)],
  recorder: ({ dir, info }) => [new Recorder({ dataDir: dir, info })],
  recorder2s: ({ dir, info }) => [new Recorder({ dataDir: dir, info, flushMs: 2000 })],
  live: ({ bus, info }) => [new LiveSink(bus, info)],
  metrics: ({ metrics }) => [new MetricsSink(metrics)],
  all: ({ store, bus, metrics, dir, info }) => [new StoreSink(store, info), new Recorder({ dataDir: dir, info }), new LiveSink(bus, info), new MetricsSink(metrics)],
};

// A second of a 440 Hz tone at 16 kHz, cut into 20 ms frames (the meter and writer see real samples).
const tone = Buffer.alloc(16000 * 2);
for (let i = 0; i < 16000; i++) tone.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)), i * 2);
const frames = Array.from({ length: 50 }, (_, k) => tone.subarray(k * 640, (k + 1) * 640));

/** CPU ms of this process's threads by name (Linux; empty elsewhere): main, libuv's pool, V8's helpers, the disk-write thread. */
function threadTimes(): Map<string, number> {
  const out = new Map<string, number>();
  const tids = (() => {
    try {
      return readdirSync('/proc/self/task');
    } catch {
      return []; // not Linux
    }
  })();
  for (const tid of tids) {
    const t = readProcStat(`/proc/self/task/${tid}/stat`);
    if (!t) continue;
    const name = Number(tid) === process.pid ? 'main' : t.name;
    out.set(name, (out.get(name) ?? 0) + t.cpuMs);
  }
  return out;
}

async function run(name: string, make: Make): Promise<{ name: string; usPerFrame: number; cores: number; byThread: string; startMs: number; endMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'openrtms-sinks-'));
  const store = await openStore({ dataDir: dir, databaseUrl: null });
  const bus = new LiveBus();
  const metrics = new OpenRtmsMetrics({ bus });
  const start = Date.now();
  const cpuBorn = process.cpuUsage();
  const bornAt = performance.now();
  let joinCpuMs = 0;
  let joinWall = 0;
  const all = Array.from({ length: streams }, (_, s) => {
    const info: StreamInfo = { rtmsStreamId: `s${s}`, meetingUuid: `m${s}`, product: 'meeting', startedAt: start };
    const sinks = make({ store, bus, metrics, dir, info });
    for (const k of sinks) k.onJoined?.({ audio: { codec: 1, sample_rate: 1, channel: 1, data_opt: 1 } }, false);
    return sinks;
  });
  let tick = 0;
  let frameCount = 0;
  let cpu0 = process.cpuUsage();
  let m0 = 0;
  let threads0 = threadTimes();
  const t0 = performance.now();
  while (performance.now() - t0 < WARMUP_MS + durationMs) {
    if (tick === WARMUP_MS / FRAME_MS) {
      // Files are created on each stream's first frame: measure the steady state after that.
      const born = process.cpuUsage(cpuBorn);
      joinCpuMs = (born.user + born.system) / 1000;
      joinWall = performance.now() - bornAt;
      cpu0 = process.cpuUsage();
      threads0 = threadTimes();
      m0 = performance.now();
      frameCount = 0;
    }
    const ts = start + tick * FRAME_MS;
    const data = frames[tick % frames.length];
    for (const sinks of all) {
      // A new object per frame per stream, as the client emits it.
      const f = { userId: 0, userName: '', data: Buffer.from(data), timestamp: ts, receivedAt: Date.now() };
      for (const k of sinks) k.onAudio?.(f);
      frameCount++;
      if (tick % 150 === 0) {
        const t = { userId: 1, userName: 'Ada', text: `line ${tick}`, timestamp: ts, receivedAt: Date.now() };
        for (const k of sinks) k.onTranscript?.(t);
      }
    }
    tick++;
    const due = t0 + tick * FRAME_MS;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - m0;
  const threads1 = threadTimes();
  const byThread = [...threads1].map(([name, ms]) => `${name} ${(((ms - (threads0.get(name) ?? 0)) / wall) * 1000).toFixed(0)} ms/s`).join(', ');
  const closing = process.cpuUsage();
  await Promise.all(all.flat().map((k) => k.close()));
  const closed = process.cpuUsage(closing);
  metrics.close();
  bus.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const cpuMs = (cpu.user + cpu.system) / 1000;
  // A stream's start and end: the warm-up's CPU beyond what its frames cost at the steady rate, and close().
  const startMs = (joinCpuMs - (cpuMs / wall) * joinWall) / streams;
  const endMs = (closed.user + closed.system) / 1000 / streams;
  return { name, usPerFrame: (cpuMs * 1000) / frameCount, cores: cpuMs / wall, byThread, startMs, endMs };
}

const names = values.only ? ['none', ...values.only.split(',')] : Object.keys(configs);
console.log(`${streams} streams × ${durationMs / 1000} s at 50 audio frames/s each; CPU of this process, all threads`);
let base = 0;
for (const name of names) {
  if (!configs[name]) throw new Error(`unknown sink set "${name}" (one of ${Object.keys(configs).join(', ')})`);
  globalThis.gc?.();
  const r = await run(name, configs[name]);
  if (name === 'none') base = r.usPerFrame;
  console.log(`${name.padEnd(9)} ${r.usPerFrame.toFixed(2).padStart(6)} µs/frame  ${(r.usPerFrame - base).toFixed(2).padStart(6)} µs above none  ${r.cores.toFixed(3)} cores  (${r.byThread})  start ${r.startMs.toFixed(2)} / end ${r.endMs.toFixed(2)} ms per stream`);
}
