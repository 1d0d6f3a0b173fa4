/**
 * `openrtms bench`: N concurrent emulated streams at real cadence, received in a separate process
 * first by a bare floor client, then by the full pipeline of `serve` (client, recorder, store, live
 * bus, metrics), so the ratio between the two is meaningful on a noisy machine.
 *
 * `--streams` takes one count or a comma list (a sweep); `--max` searches for the most streams the
 * full pipeline sustains in real time; `--plot` draws what was measured; `--cpu-prof` profiles the
 * receivers. Progress goes to stderr, so `--json` stdout stays one JSON object.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { MEDIA_KINDS, type MediaKind } from '../protocol/index.js';
import { runReceiver } from '../bench/receiver.js';
import { runPhase, type Phase, type PhaseProgress, type Side } from '../bench/phase.js';
import { searchMax, type SearchResult } from '../bench/search.js';
import { renderPlot, type PlotPoint } from '../bench/plot.js';
import { UsageError, choiceFlag, durationFlag, helpText, intFlag, parseCommand, type CommandSpec } from './args.js';

export const spec: CommandSpec = {
  name: 'bench',
  summary: 'drive N emulated streams through the real pipeline and measure',
  usage: 'openrtms bench [--streams 50[,100,...]] [--duration 20] [--rounds 1] [--media audio,transcript] [--watch] [--max [--max-lag 50] [--max-limit 5000]] [--plot FILE.svg] [--cpu-prof DIR] [--json]',
  flags: {
    streams: { type: 'string', default: '50', help: 'concurrent streams; a comma list runs each count in turn; with --max, where the search starts' },
    duration: { type: 'string', default: '20', help: 'seconds of real-time streaming per phase' },
    rounds: {
      type: 'string',
      default: '1',
      help: 'measure floor and full this many times in turn (floor, full, floor, full...) and report the round with the median steady ratio; on a noisy machine 3 or 5 gives a ratio one busy moment cannot skew',
    },
    media: { type: 'string', default: 'audio,transcript', help: `comma list of ${MEDIA_KINDS.join(', ')}` },
    watch: {
      type: 'boolean',
      help: 'the full pipeline has a live-feed subscriber watching every stream (as an open dashboard has), which turns on audio-level metering and serializes every live message; without it nobody watches, as on a server with no dashboard open',
    },
    max: {
      type: 'boolean',
      help: 'search for the most streams the full pipeline sustains in real time (no frame lost, lag p99 under --max-lag): the count doubles until one fails, then bisects to within 10 %; floor and full are measured at every step',
    },
    'max-lag': { type: 'string', default: '50', help: 'with --max: lag p99 limit in ms (lag = frame arrival minus the time it was due)' },
    'max-limit': { type: 'string', default: '5000', help: 'with --max: largest count tried' },
    pin: {
      type: 'boolean',
      help: 'Linux, needs taskset: run each receiver on the last CPU alone and this process (the emulator) on the others, so a receiver has exactly one core',
    },
    plot: { type: 'string', placeholder: 'FILE.svg', help: 'write an SVG plot of receiver CPU, memory and lag p99 against the stream count' },
    'cpu-prof': { type: 'string', placeholder: 'DIR', help: 'write a V8 CPU profile (.cpuprofile) of every receiver phase into DIR, covering the streaming window the figures measure; summarise with `npx tsx bench/profile-top.ts FILE`' },
    json: { type: 'boolean', help: 'print one JSON object on stdout' },
    receiver: { type: 'string', help: '(internal) run the receiving side: floor or full' },
  },
  examples: [
    'openrtms bench',
    'openrtms bench --streams 200 --duration 30 --json',
    'openrtms bench --streams 200 --rounds 3 --watch',
    'openrtms bench --streams 100,200,400 --duration 10 --plot bench.svg',
    'openrtms bench --max --streams 250 --duration 10 --plot docs/bench.svg',
    'openrtms bench --streams 200 --cpu-prof ./profiles',
    'openrtms bench --media audio,transcript,video --streams 20',
  ],
};

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

type Creds = { clientId: string; clientSecret: string; secretToken: string };

interface Run {
  streams: number;
  floor: Phase;
  full: Phase;
  /** Full ÷ floor CPU over the whole meeting (joins and ends included). */
  ratio_vs_floor: number;
  /** Full ÷ floor CPU in steady state (0 when a phase was too short to have one). */
  steady_ratio_vs_floor: number;
  /** With `--rounds` above 1: every round's ratios and steady CPU; the run itself is the median round. */
  rounds?: { ratio_vs_floor: number; steady_ratio_vs_floor: number; floor_steady_cpu_ms_per_stream_second: number; full_steady_cpu_ms_per_stream_second: number }[];
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, help } = parseCommand(spec, argv);
  if (help) {
    console.log(helpText(spec));
    return 0;
  }
  const media = String(v.media).split(',').map((m) => m.trim()) as MediaKind[];
  for (const m of media) if (!MEDIA_KINDS.includes(m)) throw new UsageError(`--media: expected a comma list of ${MEDIA_KINDS.join(', ')}, got "${m}"`);
  const creds: Creds = { clientId: process.env.OPENRTMS_BENCH_CLIENT ?? 'bench', clientSecret: process.env.OPENRTMS_BENCH_SECRET ?? 'bench-secret', secretToken: process.env.OPENRTMS_BENCH_TOKEN ?? 'bench-token' };
  if (v.receiver !== undefined) {
    await runReceiver(choiceFlag('receiver', v.receiver, ['floor', 'full'] as const), media, creds, { watch: v.watch === true });
    return 0;
  }
  const counts = String(v.streams)
    .split(',')
    .map((s) => intFlag('streams', s.trim(), { min: 1, max: 100_000 }));
  const durationS = durationFlag('duration', v.duration) / 1000;
  const rounds = intFlag('rounds', v.rounds, { min: 1, max: 99 });
  const watch = v.watch === true;
  if (durationS < 2) throw new UsageError('--duration: at least 2 seconds');
  const max = v.max === true;
  if (max && counts.length > 1) throw new UsageError('--streams: with --max, one count (where the search starts)');
  const maxLag = intFlag('max-lag', v['max-lag'], { min: 1, max: 10_000 });
  const cap = intFlag('max-limit', v['max-limit'], { min: 1, max: 100_000 });
  const plot = typeof v.plot === 'string' ? resolve(v.plot) : undefined;
  if (plot !== undefined && !plot.endsWith('.svg')) throw new UsageError(`--plot: expected a file name ending in .svg, got "${String(v.plot)}"`);
  const cpuProfDir = typeof v['cpu-prof'] === 'string' ? resolve(v['cpu-prof']) : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const json = v.json === true;
  const receiverCpu = v.pin === true ? pinSender() : undefined;
  const shared: Creds = { ...creds, clientSecret: randomBytes(16).toString('hex'), secretToken: randomBytes(16).toString('hex') };
  const progress = new ProgressLine();

  const measure = async (streams: number): Promise<Run> => {
    const phase = (side: Side) => runPhase({ side, streams, durationS, media, creds: shared, cpuProfDir, receiverCpu, watch, onProgress: (p) => progress.update(p) });
    progress.start(streams);
    const ratio = (a: number, b: number) => (a > 0 && b > 0 ? round(a / b, 2) : 0);
    const measured: Run[] = [];
    for (let i = 0; i < rounds; i++) {
      const floor = await phase('floor');
      progress.done('floor', floor);
      const full = await phase('full');
      progress.done('full', full);
      measured.push({
        streams,
        floor,
        full,
        ratio_vs_floor: ratio(full.cpu_ms_per_stream_second, floor.cpu_ms_per_stream_second),
        steady_ratio_vs_floor: ratio(full.steady_cpu_ms_per_stream_second, floor.steady_cpu_ms_per_stream_second),
      });
    }
    if (rounds === 1) return measured[0];
    // The round with the median steady ratio stands for the count; every round's ratios are kept.
    const median = [...measured].sort((a, b) => a.steady_ratio_vs_floor - b.steady_ratio_vs_floor)[(rounds - 1) >> 1];
    return { ...median, rounds: measured.map((r) => ({ ratio_vs_floor: r.ratio_vs_floor, steady_ratio_vs_floor: r.steady_ratio_vs_floor, floor_steady_cpu_ms_per_stream_second: r.floor.steady_cpu_ms_per_stream_second, full_steady_cpu_ms_per_stream_second: r.full.steady_cpu_ms_per_stream_second })) };
  };

  const runs: Run[] = [];
  let search: SearchResult | undefined;
  if (max) {
    search = await searchMax(
      async (n) => {
        const r = await measure(n);
        runs.push(r);
        return r;
      },
      { start: counts[0], cap, criteria: { maxLagP99Ms: maxLag }, onStep: (s) => progress.step(s.streams, s.pass, s.reason) },
    );
  } else {
    for (const n of counts) runs.push(await measure(n));
  }
  progress.end();

  // The headline run: the largest count that passed (--max), else the last one measured.
  const head = search ? (runs.filter((r) => r.streams === search!.streams).at(-1) ?? [...runs].sort((a, b) => a.streams - b.streams)[0]) : runs[runs.length - 1];
  const result: Record<string, unknown> = { ...head.full, media, watch, floor: head.floor, ratio_vs_floor: head.ratio_vs_floor, steady_ratio_vs_floor: head.steady_ratio_vs_floor, ...(head.rounds ? { rounds: head.rounds } : {}) };
  if (runs.length > 1 && !search) result.runs = runs;
  if (search) {
    const atMax = search.streams > 0 ? head.full : undefined;
    const firstFail = search.steps.filter((s) => !s.pass).sort((a, b) => a.streams - b.streams)[0];
    result.max = {
      criteria: { frames_lost: 0, lag_p99_ms_below: maxLag },
      streams: search.streams,
      cpu_cores: atMax ? atMax.cpu_cores : null,
      streams_per_core: atMax ? Math.round(search.streams / Math.max(atMax.cpu_cores, 1e-6)) : 0,
      limited_by: search.limited_by,
      failed_at: firstFail ? { streams: firstFail.streams, reason: firstFail.reason } : null,
      steps: search.steps.map((s) => ({ streams: s.streams, pass: s.pass, ...(s.reason ? { reason: s.reason } : {}), floor: s.floor, full: s.full })),
    };
  }
  if (plot) {
    const pass = (n: number) => (search ? search.steps.find((s) => s.streams === n)?.pass : undefined);
    const floor: PlotPoint[] = runs.map((r) => ({ streams: r.streams, phase: r.floor }));
    const full: PlotPoint[] = runs.map((r) => ({ streams: r.streams, phase: r.full, pass: pass(r.streams) }));
    const cpu = cpus();
    const subtitle = [
      `media ${media.join('+')}, ${durationS} s per phase, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}${receiverCpu !== undefined ? ' (receiver pinned to one)' : ''}, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}`,
      ...(search ? [`max sustained: ${search.streams} streams (no loss, lag p99 < ${maxLag} ms; limited by ${search.limited_by})`] : []),
    ];
    mkdirSync(dirname(plot), { recursive: true });
    writeFileSync(plot, renderPlot({ title: 'openrtms bench: receiver cost against concurrent streams', subtitle, floor, full, lagLimitMs: search ? maxLag : undefined }));
    result.plot = plot;
  }
  if (json) console.log(JSON.stringify(result));
  else printTable(runs, media, durationS, search, result, plot);
  return 0;
}

/**
 * `--pin`: this process (the emulator) moves to every CPU but the last, which the receivers get to
 * themselves. Returns the receivers' CPU.
 */
function pinSender(): number {
  const n = availableParallelism();
  if (process.platform !== 'linux' || n < 2) throw new UsageError('--pin: needs Linux and at least 2 CPUs');
  const receiver = n - 1;
  const r = spawnSync('taskset', ['-a', '-p', '-c', n === 2 ? '0' : `0-${n - 2}`, String(process.pid)], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new UsageError(`--pin: taskset failed (${r.error?.message ?? r.stderr.trim()}); install util-linux or run without --pin`);
  return receiver;
}

function printTable(runs: Run[], media: MediaKind[], durationS: number, search: SearchResult | undefined, result: Record<string, unknown>, plot?: string): void {
  const row = (name: string, p: Phase) =>
    `${String(p.streams).padStart(6)} ${name.padEnd(5)} ${String(p.frames_received).padStart(9)} recv ${String(p.frames_lost).padStart(5)} lost  ${p.cpu_ms_per_stream_second.toFixed(3).padStart(7)} cpu ms/stream·s (steady ${p.steady_cpu_ms_per_stream_second.toFixed(3)})  ${p.cpu_cores.toFixed(2)} cores (main ${p.main_thread_cores?.toFixed(2) ?? '?'}; steady ${p.steady_cpu_cores.toFixed(2)}, main ${p.steady_main_thread_cores?.toFixed(2) ?? '?'}, ${p.steady_wakeups_per_s ?? '?'} wake-ups/s)  ${String(Math.round(p.streams_per_core)).padStart(6)} streams/core  lag p50 ${p.latency_ms.p50} p99 ${p.latency_ms.p99} ms (joins incl. ${p.latency_all_ms.p99})  ${p.rss_mb_per_stream.toFixed(3)} MB/stream  sender ${p.sender.cpu_cores.toFixed(2)} cores`;
  console.log(`openrtms bench: ${durationS} s per phase, media ${media.join('+')}${result.watch ? ', every stream watched live' : ''}`);
  for (const r of runs) {
    console.log(row('floor', r.floor));
    console.log(row('full', r.full));
    console.log(`${' '.repeat(13)}full pipeline CPU = ${r.ratio_vs_floor}× the bare floor over the whole meeting, ${r.steady_ratio_vs_floor || '?'}× in steady state`);
    if (r.rounds) console.log(`${' '.repeat(13)}median of ${r.rounds.length} rounds; steady ratios ${r.rounds.map((x) => `${x.steady_ratio_vs_floor}×`).join(', ')}`);
  }
  if (search) {
    const m = result.max as { streams: number; streams_per_core: number; cpu_cores: number | null; failed_at: { streams: number; reason?: string } | null };
    console.log(
      `max: ${m.streams} streams sustained${m.cpu_cores !== null ? ` on ${m.cpu_cores} cores of receiver CPU = ${m.streams_per_core} streams per core` : ''}; limited by ${search.limited_by}${m.failed_at ? ` (${m.failed_at.streams} streams: ${m.failed_at.reason})` : ''}`,
    );
  }
  if (plot) console.log(`plot: ${plot}`);
}

/**
 * Progress on stderr: a redrawn bar on a terminal; otherwise one line per phase and per search step,
 * so a log shows where a long run is without being flooded.
 */
class ProgressLine {
  readonly #tty = process.stderr.isTTY === true;
  #drawn = false;
  #streams = 0;

  start(streams: number): void {
    this.#streams = streams;
  }

  update(p: PhaseProgress): void {
    if (!this.#tty) return;
    const done = Math.min(1, p.elapsed_s / p.duration_s);
    const bar = '#'.repeat(Math.round(done * 24)).padEnd(24, '.');
    const line = `bench ${p.side.padEnd(5)} ${p.streams} streams [${bar}] ${String(Math.round(done * 100)).padStart(3)}%  ${p.elapsed_s.toFixed(0)}/${p.duration_s} s  audio sent ${p.sent}  received ${p.received}  lag p99 ${p.p99} ms`;
    process.stderr.write(`\r${line.slice(0, Math.max(20, (process.stderr.columns ?? 120) - 1)).padEnd(Math.min(line.length + 2, (process.stderr.columns ?? 120) - 1))}`);
    this.#drawn = true;
  }

  done(side: Side, p: Phase): void {
    this.#clear();
    process.stderr.write(`bench ${side.padEnd(5)} ${String(this.#streams).padStart(5)} streams: ${p.frames_lost} lost, lag p99 ${p.latency_ms.p99} ms, receiver ${p.cpu_cores} cores, ${p.rss_mb} MB, sender ${p.sender.cpu_cores} cores\n`);
  }

  step(streams: number, pass: boolean, reason?: string): void {
    this.#clear();
    process.stderr.write(`bench max: ${streams} streams ${pass ? 'sustained' : `not sustained (${reason})`}\n`);
  }

  end(): void {
    this.#clear();
  }

  #clear(): void {
    if (!this.#drawn) return;
    process.stderr.write('\r\x1b[2K');
    this.#drawn = false;
  }
}
