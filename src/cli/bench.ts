/**
 * `openrtms bench`: N concurrent emulated streams at real cadence, received in a separate process
 * first by a bare floor client, then by the full pipeline of `serve` (client, recorder, store, live
 * bus, metrics), so the ratio between the two is meaningful on a noisy machine.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MEDIA_KINDS, type MediaKind } from '../protocol/index.js';
import { Emulator } from '../emulator/emulator.js';
import { demoScenario } from '../emulator/scenario.js';
import { runReceiver, type ReceiverReport } from '../bench/receiver.js';
import { UsageError, choiceFlag, durationFlag, helpText, intFlag, parseCommand, type CommandSpec } from './args.js';

export const spec: CommandSpec = {
  name: 'bench',
  summary: 'drive N emulated streams through the real pipeline and measure',
  usage: 'openrtms bench [--streams 50] [--duration 20] [--media audio,transcript] [--json]',
  flags: {
    streams: { type: 'string', default: '50', help: 'concurrent streams' },
    duration: { type: 'string', default: '20', help: 'seconds of real-time streaming per phase' },
    media: { type: 'string', default: 'audio,transcript', help: `comma list of ${MEDIA_KINDS.join(', ')}` },
    json: { type: 'boolean', help: 'print one JSON object on stdout' },
    receiver: { type: 'string', help: '(internal) run the receiving side: floor or full' },
  },
  examples: ['openrtms bench', 'openrtms bench --streams 200 --duration 30 --json', 'openrtms bench --media audio,transcript,video --streams 20'],
};

interface Phase {
  streams: number;
  duration_s: number;
  frames_sent: number;
  frames_received: number;
  frames_lost: number;
  cpu_ms_per_stream_second: number;
  streams_per_core: number;
  latency_ms: { p50: number; p99: number };
  rss_mb_per_stream: number;
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

export async function run(argv: string[]): Promise<number> {
  const { values: v, help } = parseCommand(spec, argv);
  if (help) {
    console.log(helpText(spec));
    return 0;
  }
  const media = String(v.media).split(',').map((m) => m.trim()) as MediaKind[];
  for (const m of media) if (!MEDIA_KINDS.includes(m)) throw new UsageError(`--media: expected a comma list of ${MEDIA_KINDS.join(', ')}, got "${m}"`);
  const creds = { clientId: process.env.OPENRTMS_BENCH_CLIENT ?? 'bench', clientSecret: process.env.OPENRTMS_BENCH_SECRET ?? 'bench-secret', secretToken: process.env.OPENRTMS_BENCH_TOKEN ?? 'bench-token' };
  if (v.receiver !== undefined) {
    await runReceiver(choiceFlag('receiver', v.receiver, ['floor', 'full'] as const), media, creds);
    return 0;
  }
  const streams = intFlag('streams', v.streams, { min: 1, max: 100_000 });
  const durationS = durationFlag('duration', v.duration) / 1000;
  if (durationS < 2) throw new UsageError('--duration: at least 2 seconds');
  const json = v.json === true;
  const shared = { ...creds, clientSecret: randomBytes(16).toString('hex'), secretToken: randomBytes(16).toString('hex') };
  const floor = await phase('floor', streams, durationS, media, shared, json);
  const full = await phase('full', streams, durationS, media, shared, json);
  const result = {
    ...full,
    media,
    floor,
    ratio_vs_floor: round(full.cpu_ms_per_stream_second / Math.max(floor.cpu_ms_per_stream_second, 1e-9), 2),
  };
  if (json) console.log(JSON.stringify(result));
  else {
    const row = (name: string, p: Phase) =>
      `${name.padEnd(6)} ${String(p.frames_received).padStart(9)} recv ${String(p.frames_lost).padStart(5)} lost  ${p.cpu_ms_per_stream_second.toFixed(3).padStart(8)} cpu ms/stream·s  ${String(Math.round(p.streams_per_core)).padStart(6)} streams/core  p50 ${p.latency_ms.p50} ms  p99 ${p.latency_ms.p99} ms  ${p.rss_mb_per_stream.toFixed(3)} MB/stream`;
    console.log(`openrtms bench: ${streams} streams × ${durationS} s, media ${media.join('+')}`);
    console.log(row('floor', floor));
    console.log(row('full', full));
    console.log(`full pipeline CPU = ${result.ratio_vs_floor}× the bare floor`);
  }
  return 0;
}

async function phase(mode: 'floor' | 'full', streams: number, durationS: number, media: MediaKind[], creds: { clientId: string; clientSecret: string; secretToken: string }, json: boolean): Promise<Phase> {
  const bin = fileURLToPath(new URL('../../bin/openrtms.js', import.meta.url));
  const child = spawn(process.execPath, ['--expose-gc', bin, 'bench', '--receiver', mode, '--media', media.join(',')], {
    env: { ...process.env, OPENRTMS_BENCH_CLIENT: creds.clientId, OPENRTMS_BENCH_SECRET: creds.clientSecret, OPENRTMS_BENCH_TOKEN: creds.secretToken },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error(`bench ${mode} receiver exited before starting`);
  const { url } = JSON.parse(first.value) as { url: string };
  const emulator = new Emulator({ ...creds, webhookUrl: url, meetings: streams, scenario: demoScenario(durationS), waitForClientMs: 15_000 });
  await emulator.start();
  child.stdin!.write('start\n');
  const t0 = Date.now();
  const progress = setInterval(() => {
    if (!process.stderr.isTTY) return;
    const done = Math.min(1, (Date.now() - t0) / 1000 / durationS);
    const bar = '#'.repeat(Math.round(done * 30)).padEnd(30, '.');
    process.stderr.write(`\r${mode.padEnd(5)} [${bar}] ${Math.round(done * 100)}%  ${emulator.summary().sent.audio} audio frames sent`);
  }, 500);
  const summary = await emulator.run();
  clearInterval(progress);
  if (process.stderr.isTTY) process.stderr.write('\n');
  child.stdin!.write('report\n');
  const next = await lines.next();
  await emulator.close();
  child.stdin!.end();
  await new Promise((r) => child.once('exit', r));
  if (next.done) throw new Error(`bench ${mode} receiver exited without a report`);
  const report = JSON.parse(next.value) as ReceiverReport;
  const kinds = ['audio', 'video', 'share', 'transcript', 'chat'] as const;
  const sent = kinds.reduce((n, k) => n + summary.sent[k], 0);
  const cpuPerStreamSecond = report.cpu_ms / (streams * durationS);
  return {
    streams,
    duration_s: durationS,
    frames_sent: sent,
    frames_received: report.frames,
    frames_lost: Math.max(0, sent - report.frames) + kinds.reduce((n, k) => n + summary.missed[k], 0),
    cpu_ms_per_stream_second: round(cpuPerStreamSecond),
    streams_per_core: Math.round(1000 / Math.max(cpuPerStreamSecond, 1e-6)),
    latency_ms: report.latency_ms,
    rss_mb_per_stream: round(Math.max(0, report.rss_mb - report.baseline_rss_mb) / streams),
  };
}
