/**
 * One side of `openrtms bench`, run in its own process so its CPU and memory are its own: a webhook
 * receiver that joins every announced stream either with the full pipeline exactly as `serve` runs
 * it (RtmsClient, recorder, store, live bus with audio levels, metrics) or with the bare floor client.
 *
 * Talks to the bench process in JSON lines on stdout: first `{"url"}`, then once "start" arrived on
 * stdin a `{"progress"}` line every second, and its report when "report" arrives. With
 * OPENRTMS_BENCH_CPU_PROF set to a file name, a V8 CPU profile of exactly that window (what the
 * figures measure, without start-up and teardown) is written there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MediaKind } from '../protocol/index.js';
import { toJson } from '../live/bus.js';
import { createRuntime } from '../server/runtime.js';
import { openStore } from '../store/open.js';
import { floorJoin } from './floor.js';
import { wakeCoalescingFromEnv } from '../cli/config.js';
import { readProcStat, readWakeups } from './proc.js';
import { LatencyHistogram, StreamLag, type LatencySummary } from './latency.js';
import type { StreamSink } from '../pipeline/types.js';

export interface ReceiverReport {
  frames: number;
  cpu_ms: number;
  rss_mb: number;
  baseline_rss_mb: number;
  /** Wall time between "start" and "report". */
  wall_ms: number;
  /** Lag of the frames due after each stream's first WARMUP_MS (its join); `latency_all_ms` counts every frame. */
  latency_ms: LatencySummary;
  latency_all_ms: LatencySummary;
  /** p99 of the receiver's event-loop delay while streaming: how late its timers and reads ran. */
  event_loop_p99_ms: number;
  /** Of cpu_ms, what the main (JavaScript) thread used; the rest is libuv's file-system threads and V8's GC helpers. Linux only. */
  main_thread_cpu_ms?: number;
  decode_errors: number;
  /** With --watch: bytes of live-feed JSON the watcher received. */
  live_bytes?: number;
}

/** What the receiver prints every second while streaming. */
export interface ReceiverProgress {
  frames: number;
  p99: number;
  /** CPU (all threads) and main-thread CPU since "start", in ms: the bench takes the steady state from these. */
  cpu_ms: number;
  main_cpu_ms?: number;
  /** The main thread's wake-ups (voluntary context switches) since "start". Linux only. */
  main_wakeups?: number;
}

export async function runReceiver(mode: 'floor' | 'full', media: MediaKind[], creds: { clientId: string; clientSecret: string; secretToken: string }, o: { watch?: boolean } = {}): Promise<void> {
  const latency = new LatencyHistogram();
  const latencyAll = new LatencyHistogram();
  const counters = { frames: 0, latency, latencyAll, decodeErrors: 0, liveBytes: 0 };
  globalThis.gc?.();
  const baselineRss = process.memoryUsage().rss;
  let cpuStart: NodeJS.CpuUsage | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'openrtms-bench-'));
  let url: string;
  let stop: () => Promise<void>;
  if (mode === 'full') {
    const store = await openStore({ dataDir: dir, databaseUrl: null });
    // Counts frames and measures their lag at the sinks. It does no work of its own: the recorder
    // and the live sink that `serve` attaches already decode every audio frame.
    const measure = (): StreamSink => {
      const lag = new StreamLag(latency, latencyAll);
      return {
        onAudio(f) {
          counters.frames++;
          lag.record(f.timestamp);
        },
        onVideo(f) {
          counters.frames++;
          lag.record(f.timestamp);
        },
        onShare(f) {
          counters.frames++;
          lag.record(f.timestamp);
        },
        onTranscript(f) {
          counters.frames++;
          lag.record(f.timestamp);
        },
        onChat() {
          counters.frames++;
        },
        async close() {},
      };
    };
    const runtime = createRuntime({ ...creds, webhookPath: '/webhook', store, dataDir: dir, extraSinks: () => [measure()], client: { media }, wakeCoalescingMs: wakeCoalescingFromEnv('bench') });
    // --watch: what an open dashboard costs, short of its socket: every live message of every stream, serialized.
    if (o.watch) runtime.bus.subscribe({ maxQueue: 1 << 16, deliver: (batch) => batch.forEach((m) => (counters.liveBytes += toJson(m).length)) });
    ({ url } = await runtime.app.listen(0, '127.0.0.1'));
    stop = () => runtime.shutdown();
  } else {
    const closers: (() => void)[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200).end('{}');
        const body = JSON.parse(Buffer.concat(chunks).toString());
        if (String(body.event).endsWith('rtms_started')) closers.push(floorJoin(body.payload, creds, media, counters));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    stop = async () => {
      closers.forEach((c) => c());
      server.close();
    };
  }
  process.stdout.write(JSON.stringify({ url: `${url}/webhook` }) + '\n');
  process.stdin.setEncoding('utf8');
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  const profileTo = process.env.OPENRTMS_BENCH_CPU_PROF;
  const profiler = cpuProfiler();
  let wallStart = performance.now();
  let mainStart: number | undefined;
  let wakeupsStart: number | undefined;
  let progress: NodeJS.Timeout | undefined;
  let buffered = '';
  for await (const chunk of process.stdin) {
    buffered += chunk;
    if (buffered.includes('start')) {
      if (profileTo) await profiler.start();
      cpuStart = process.cpuUsage();
      mainStart = mainThreadCpuMs();
      wakeupsStart = mainThreadWakeups();
      wallStart = performance.now();
      loopDelay.enable();
      progress = setInterval(() => {
        const used = process.cpuUsage(cpuStart);
        const main = mainThreadCpuMs();
        const wakeups = mainThreadWakeups();
        const p: ReceiverProgress = {
          frames: counters.frames,
          p99: latency.percentile(99),
          cpu_ms: (used.user + used.system) / 1000,
          ...(main !== undefined && mainStart !== undefined ? { main_cpu_ms: main - mainStart } : {}),
          ...(wakeups !== undefined && wakeupsStart !== undefined ? { main_wakeups: wakeups - wakeupsStart } : {}),
        };
        process.stdout.write(JSON.stringify({ progress: p }) + '\n');
      }, 1000);
      buffered = '';
    }
    if (buffered.includes('report')) break;
  }
  const cpu = process.cpuUsage(cpuStart);
  const mainEnd = mainThreadCpuMs();
  const wallMs = performance.now() - wallStart;
  clearInterval(progress);
  loopDelay.disable();
  if (profileTo) writeFileSync(profileTo, JSON.stringify(await profiler.stop()));
  const report: ReceiverReport = {
    frames: counters.frames,
    cpu_ms: (cpu.user + cpu.system) / 1000,
    rss_mb: process.memoryUsage().rss / 2 ** 20,
    baseline_rss_mb: baselineRss / 2 ** 20,
    wall_ms: wallMs,
    latency_ms: summary(latency),
    latency_all_ms: summary(latencyAll),
    event_loop_p99_ms: loopDelay.count ? Math.round(loopDelay.percentile(99) / 1e4) / 100 : 0,
    ...(mainStart !== undefined && mainEnd !== undefined ? { main_thread_cpu_ms: mainEnd - mainStart } : {}),
    decode_errors: counters.decodeErrors,
    ...(o.watch ? { live_bytes: counters.liveBytes } : {}),
  };
  process.stdout.write(JSON.stringify(report) + '\n');
  await stop();
  rmSync(dir, { recursive: true, force: true });
}

/** The V8 sampling profiler of this process, started and stopped on demand (what `--cpu-prof` does for a whole run). */
function cpuProfiler(): { start(): Promise<void>; stop(): Promise<unknown> } {
  let session: Session | undefined;
  return {
    async start() {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 1000 });
      await session.post('Profiler.start');
    },
    async stop() {
      if (!session) return undefined;
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      return profile;
    },
  };
}

/** CPU time (user + system) of this process's main thread, in ms; undefined off Linux. */
function mainThreadCpuMs(): number | undefined {
  return readProcStat(`/proc/self/task/${process.pid}/stat`)?.cpuMs;
}

/** Voluntary context switches of this process's main thread; undefined off Linux. */
function mainThreadWakeups(): number | undefined {
  return readWakeups(`/proc/self/task/${process.pid}/status`);
}

function summary(h: LatencyHistogram): LatencySummary {
  return { p50: h.percentile(50), p99: h.percentile(99), max: Math.round(h.max * 10) / 10 };
}
