/**
 * What one speech-to-text provider costs per stream: `openrtms serve` (a child process) records N
 * emulated meetings in real time, once without transcription and once with a `deepgram` entry
 * pointed at the Deepgram stand-in (test/helpers/stt), which runs in this process so its own
 * recognition work is not counted. The difference in serve's CPU from the meetings' start until every
 * stream is stopped (the providers' last results included), per stream-second, is the provider's
 * cost: decoding, resampling, buffering, the SDK's WebSocket, results into the store, files, live feed.
 * The entry uses mixed audio so both runs receive the same audio; runs alternate (`--rounds`).
 *
 * Run: `npm run build && npx tsx bench/stt.ts [--streams 4] [--duration 20] [--rounds 2]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/delivery/storage-helpers.js';
import { startDeepgramStandIn } from '../test/helpers/stt/deepgram-server.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const STREAMS = arg('streams', 4);
const DURATION_S = arg('duration', 20);
const ROUNDS = arg('rounds', 2);
const CREDS = { ZM_RTMS_CLIENT: 'bench-client', ZM_RTMS_SECRET: 'bench-secret', ZOOM_SECRET_TOKEN: 'bench-token' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

function run(cmd: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['bin/openrtms.js', ...cmd], { env: { ...process.env, ...env, ZM_RTMS_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function measure(transcription: unknown[]): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-bench-stt-'));
  const config = join(dataDir, 'openrtms.config.json');
  writeFileSync(config, JSON.stringify(transcription.length ? { transcription } : {}));
  const port = await freePort();
  const serve = run(['serve', '--port', String(port), '--data-dir', dataDir, '--config', config], CREDS);
  let out = '';
  serve.stdout!.on('data', (d) => (out += d));
  serve.stderr!.on('data', (d) => (out += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) break;
    if (i > 100) throw new Error(`serve did not start: ${out}`);
    await sleep(100);
  }
  const before = cpuOf(serve.pid!);
  const emu = run(['emulate', '--webhook-url', `${base}/webhook`, '--port', '0', '--meetings', String(STREAMS), '--duration', String(DURATION_S), '--json'], CREDS);
  await new Promise((r) => emu.on('exit', r));
  for (let i = 0; i < 300; i++) {
    const streams = (await (await fetch(`${base}/api/streams`)).json()) as { streams: { state: string }[] };
    if (streams.streams.length === STREAMS && streams.streams.every((s) => s.state === 'stopped')) break;
    await sleep(100);
  }
  await sleep(1000);
  const cpu = cpuOf(serve.pid!) - before;
  serve.kill('SIGTERM');
  await new Promise((r) => serve.on('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
  return cpu;
}

const dg = await startDeepgramStandIn({ apiKey: 'bench-key' });
try {
  const entry = [{ provider: 'deepgram', apiKey: 'bench-key', baseUrl: dg.url, audio: 'mixed' }];
  const without: number[] = [];
  const withStt: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    without.push(await measure([]));
    withStt.push(await measure(entry));
  }
  const streamSeconds = STREAMS * DURATION_S;
  const per = (ms: number) => Math.round((ms / streamSeconds) * 100) / 100;
  const extra = withStt.map((w, i) => per(w - without[i]));
  const recognized = dg.connections.reduce((n, c) => n + c.recognized.length, 0);
  console.log(JSON.stringify({ streams: STREAMS, duration_s: DURATION_S, rounds: ROUNDS, serve_cpu_ms_without: without.map(Math.round), serve_cpu_ms_with_deepgram: withStt.map(Math.round), extra_ms_per_stream_second: extra, deepgram_connections: dg.connections.length, lines_recognized: recognized, violations: dg.violations.length }));
  console.log('| round | serve CPU without (ms) | with deepgram (ms) | extra per stream-second (ms) |');
  console.log('|---|---|---|---|');
  extra.forEach((e, i) => console.log(`| ${i + 1} | ${Math.round(without[i])} | ${Math.round(withStt[i])} | ${e} |`));
} finally {
  await dg.close();
}
