/**
 * One measured phase of `openrtms bench`: N emulated streams at real cadence for D seconds, received
 * in a child process (floor or full pipeline) so that its CPU and memory are its own. The emulator
 * (the sender) runs in this process; its own CPU and event-loop delay are reported too, so a phase
 * limited by the sender is told apart from one limited by the receiver.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { MediaKind } from '../protocol/index.js';
import { Emulator } from '../emulator/emulator.js';
import { demoScenario } from '../emulator/scenario.js';
import type { LatencySummary } from './latency.js';
import type { ReceiverProgress, ReceiverReport } from './receiver.js';

export type Side = 'floor' | 'full';

export interface Phase {
  streams: number;
  duration_s: number;
  frames_sent: number;
  frames_received: number;
  frames_lost: number;
  /** Receiver CPU (all threads) per stream per second over the whole meeting: joins and ends included. */
  cpu_ms_per_stream_second: number;
  /**
   * The same in steady state: from {@link STEADY_AFTER_S} after the start (every stream joined, its
   * files created) to a second before the end. What a long meeting costs per second; 0 if the
   * phase was too short to have one.
   */
  steady_cpu_ms_per_stream_second: number;
  /** Concurrent streams one core would carry at the steady-state cost (the whole-meeting cost if there is none). */
  streams_per_core: number;
  /**
   * Lag: frame arrival at the receiver minus the time the frame was due (its Zoom-side timestamp),
   * in steady state, i.e. without each stream's first 2 s (its join, while every stream joins at once).
   */
  latency_ms: LatencySummary;
  /** The same over every frame, joins included. */
  latency_all_ms: LatencySummary;
  rss_mb_per_stream: number;
  /** Receiver CPU while streaming, in cores (1 = one core busy all the time). */
  cpu_cores: number;
  /** Of cpu_cores, the receiver's main (JavaScript) thread; the rest is file-system and GC threads. Linux only. */
  main_thread_cores?: number;
  /** Receiver CPU in steady state, in cores, and of it the main thread's (Linux only). */
  steady_cpu_cores: number;
  steady_main_thread_cores?: number;
  /**
   * Wake-ups of the receiver's main thread per second in steady state (voluntary context switches:
   * each is a sleep in epoll or a futex and a wake-up, which on a VM cost more than reading a frame). Linux only.
   */
  steady_wakeups_per_s?: number;
  /** Receiver RSS above its idle baseline at the end of the phase. */
  rss_mb: number;
  /** p99 event-loop delay of the receiver while streaming. */
  event_loop_p99_ms: number;
  /** The emulator's side, in the bench process: CPU in cores and event-loop delay p99. */
  sender: { cpu_cores: number; event_loop_p99_ms: number };
  /** With --watch (full pipeline): bytes of live-feed JSON the watcher received. */
  live_bytes?: number;
}

export interface PhaseProgress {
  side: Side;
  streams: number;
  elapsed_s: number;
  duration_s: number;
  /** Audio frames the emulator sent so far. */
  sent: number;
  /** Frames the receiver got so far (updated every second). */
  received: number;
  /** Lag p99 so far at the receiver. */
  p99: number;
}

export interface PhaseOptions {
  side: Side;
  streams: number;
  durationS: number;
  media: MediaKind[];
  creds: { clientId: string; clientSecret: string; secretToken: string };
  /**
   * Write a V8 CPU profile of the receiver into this directory, `receiver-<side>-<streams>-<time>.cpuprofile`,
   * covering the streaming window only (as the CPU figures do). Open it in Chrome DevTools or summarise
   * it with `npx tsx bench/profile-top.ts FILE`.
   */
  cpuProfDir?: string;
  /** Called about twice a second while streaming. */
  onProgress?: (p: PhaseProgress) => void;
  /** Run the receiver (all its threads) on this one CPU only, through `taskset` (Linux). */
  receiverCpu?: number;
  /** The full pipeline has a live-feed subscriber watching every stream. */
  watch?: boolean;
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** Seconds after a phase's start before its steady state: every stream has joined and created its files. */
export const STEADY_AFTER_S = 3;

export async function runPhase(o: PhaseOptions): Promise<Phase> {
  const bin = fileURLToPath(new URL('../../bin/openrtms.js', import.meta.url));
  const profile = o.cpuProfDir ? { OPENRTMS_BENCH_CPU_PROF: join(o.cpuProfDir, `receiver-${o.side}-${o.streams}-${Date.now()}.cpuprofile`) } : {};
  // OPENRTMS_BENCH_RECEIVER_FLAGS: Node/V8 flags for the receivers (e.g. --trace-gc, --trace-deopt); their output goes to stderr.
  const flags = (process.env.OPENRTMS_BENCH_RECEIVER_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const args = ['--expose-gc', ...flags, bin, 'bench', '--receiver', o.side, '--media', o.media.join(','), ...(o.watch ? ['--watch'] : [])];
  const [cmd, argv] = o.receiverCpu === undefined ? [process.execPath, args] : ['taskset', ['-c', String(o.receiverCpu), process.execPath, ...args]];
  const child = spawn(cmd, argv, {
    env: { ...process.env, ...profile, OPENRTMS_BENCH_CLIENT: o.creds.clientId, OPENRTMS_BENCH_SECRET: o.creds.clientSecret, OPENRTMS_BENCH_TOKEN: o.creds.secretToken },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let t0 = performance.now();
  // The child's lines: {"url"} once, {"progress"} every second while streaming, then the report.
  const live: ReceiverProgress = { frames: 0, p99: 0, cpu_ms: 0 };
  // The receiver's CPU readings with the time they arrived, for the steady-state window.
  const readings: Reading[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  const queued: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    // Anything else a receiver prints (a V8 trace flag's output, say) is passed on, not parsed.
    if (!line.startsWith('{')) return void process.stderr.write(`${line}\n`);
    if (line.startsWith('{"progress"')) {
      Object.assign(live, (JSON.parse(line) as { progress: ReceiverProgress }).progress);
      readings.push({ at: (performance.now() - t0) / 1000, cpu_ms: live.cpu_ms, main_cpu_ms: live.main_cpu_ms, main_wakeups: live.main_wakeups });
      return;
    }
    const w = waiting.shift();
    if (w) w(line);
    else queued.push(line);
  });
  lines.on('close', () => waiting.splice(0).forEach((w) => w(undefined)));
  const next = () => (queued.length ? Promise.resolve(queued.shift()) : new Promise<string | undefined>((r) => waiting.push(r)));

  const first = await next();
  if (first === undefined) throw new Error(`bench ${o.side} receiver exited before starting (code ${await exited})`);
  const { url } = JSON.parse(first) as { url: string };
  const emulator = new Emulator({ ...o.creds, webhookUrl: url, meetings: o.streams, scenario: demoScenario(o.durationS), waitForClientMs: 15_000 });
  await emulator.start();
  child.stdin!.write('start\n');
  const senderCpu = process.cpuUsage();
  const senderLoop = monitorEventLoopDelay({ resolution: 10 });
  senderLoop.enable();
  t0 = performance.now();
  const tick = () => {
    let sent = 0;
    for (const s of emulator.streams) sent += s.sent.audio;
    o.onProgress?.({ side: o.side, streams: o.streams, elapsed_s: (performance.now() - t0) / 1000, duration_s: o.durationS, sent, received: live.frames, p99: live.p99 });
  };
  const progress = o.onProgress ? setInterval(tick, 500) : undefined;
  let summary;
  try {
    summary = await emulator.run();
  } finally {
    clearInterval(progress);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(senderCpu);
  senderLoop.disable();
  child.stdin!.write('report\n');
  const last = await next();
  await emulator.close();
  child.stdin!.end();
  const code = await exited;
  if (last === undefined) throw new Error(`bench ${o.side} receiver exited without a report (code ${code})`);
  const report = JSON.parse(last) as ReceiverReport;
  const kinds = ['audio', 'video', 'share', 'transcript', 'chat'] as const;
  const sent = kinds.reduce((n, k) => n + summary.sent[k], 0);
  const cpuPerStreamSecond = report.cpu_ms / (o.streams * o.durationS);
  const steady = steadyState(readings, o.durationS);
  const steadyPerStreamSecond = steady ? steady.cpuMsPerS / o.streams : 0;
  const rssMb = Math.max(0, report.rss_mb - report.baseline_rss_mb);
  return {
    streams: o.streams,
    duration_s: o.durationS,
    frames_sent: sent,
    frames_received: report.frames,
    frames_lost: Math.max(0, sent - report.frames) + kinds.reduce((n, k) => n + summary.missed[k], 0),
    cpu_ms_per_stream_second: round(cpuPerStreamSecond),
    steady_cpu_ms_per_stream_second: round(steadyPerStreamSecond),
    streams_per_core: Math.round(1000 / Math.max(steady ? steadyPerStreamSecond : cpuPerStreamSecond, 1e-6)),
    latency_ms: report.latency_ms,
    latency_all_ms: report.latency_all_ms,
    rss_mb_per_stream: round(rssMb / o.streams),
    cpu_cores: round(report.cpu_ms / Math.max(report.wall_ms, 1)),
    ...(report.main_thread_cpu_ms !== undefined ? { main_thread_cores: round(report.main_thread_cpu_ms / Math.max(report.wall_ms, 1)) } : {}),
    steady_cpu_cores: round(steady ? steady.cpuMsPerS / 1000 : 0),
    ...(steady?.mainMsPerS !== undefined ? { steady_main_thread_cores: round(steady.mainMsPerS / 1000) } : {}),
    ...(steady?.wakeupsPerS !== undefined ? { steady_wakeups_per_s: Math.round(steady.wakeupsPerS) } : {}),
    rss_mb: round(rssMb, 1),
    event_loop_p99_ms: report.event_loop_p99_ms,
    ...(report.live_bytes !== undefined ? { live_bytes: report.live_bytes } : {}),
    sender: { cpu_cores: round((cpu.user + cpu.system) / 1000 / wallMs), event_loop_p99_ms: senderLoop.count ? round(senderLoop.percentile(99) / 1e6, 2) : 0 },
  };
}

/** A receiver's cumulative readings, with the time they arrived (s into the phase). */
export interface Reading {
  at: number;
  cpu_ms: number;
  main_cpu_ms?: number;
  main_wakeups?: number;
}

/**
 * CPU ms per second (all threads and main thread) and main-thread wake-ups per second between the
 * first reading at least {@link STEADY_AFTER_S} into the phase and the last one a second or more before its end.
 */
export function steadyState(readings: Reading[], durationS: number): { cpuMsPerS: number; mainMsPerS?: number; wakeupsPerS?: number } | undefined {
  const inside = readings.filter((r) => r.at >= STEADY_AFTER_S && r.at <= durationS - 1);
  if (inside.length < 2) return undefined;
  const a = inside[0];
  const b = inside[inside.length - 1];
  const seconds = b.at - a.at;
  return {
    cpuMsPerS: (b.cpu_ms - a.cpu_ms) / seconds,
    ...(a.main_cpu_ms !== undefined && b.main_cpu_ms !== undefined ? { mainMsPerS: (b.main_cpu_ms - a.main_cpu_ms) / seconds } : {}),
    ...(a.main_wakeups !== undefined && b.main_wakeups !== undefined ? { wakeupsPerS: (b.main_wakeups - a.main_wakeups) / seconds } : {}),
  };
}
