/**
 * What one cluster worker costs per stream, with everything a worker does: RtmsClient, recorder,
 * PostgreSQL store, live feed republished on NATS, lease renewals. Starts a gateway and one worker
 * (`openrtms serve` with NATS_URL, `openrtms worker`) as processes, drives N emulated meetings
 * (audio, transcript, chat) through them, and reads the CPU time of the worker and of nats-server
 * from /proc over a steady window. Needs NATS (JetStream) and PostgreSQL as in the tests.
 *
 * Run: `npx tsx bench/cluster.ts [--streams 100] [--duration 20]`. Prints one JSON object.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Emulator } from '../src/emulator/emulator.js';
import { demoScenario } from '../src/emulator/scenario.js';
import { readProcStat } from '../src/bench/proc.js';
import { destroyCluster } from '../src/cluster/index.js';
import { clusterEnv } from '../test/helpers/cluster-env.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const STREAMS = arg('streams', 100);
const DURATION_S = arg('duration', 20);
const NATS_URL = process.env.OPENRTMS_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const PG_URL = process.env.OPENRTMS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process, in ms (this benchmark runs on Linux only). */
function cpuMs(pid: number): number {
  const stat = readProcStat(`/proc/${pid}/stat`);
  if (!stat) throw new Error(`cannot read /proc/${pid}/stat (this benchmark needs Linux)`);
  return stat.cpuMs;
}
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const run = `bench${Date.now().toString(36)}`;
const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-cluster-bench-'));
const admin = new pg.Client({ connectionString: PG_URL });
await admin.connect();
await admin.query(`CREATE SCHEMA "${run}"`);
const creds = { clientId: 'b', clientSecret: 'b-secret', secretToken: 'b-token' };
const env = { ...process.env, ...clusterEnv({ run, natsUrl: NATS_URL, pgUrl: PG_URL, dataDir, creds }, { ZM_RTMS_LOG_LEVEL: 'warn' }) };
const gateway = spawn(process.execPath, ['bin/openrtms.js', 'serve', '--port', '0'], { env });
const worker = spawn(process.execPath, ['bin/openrtms.js', 'worker', '--id', 'bench', '--max-streams', String(STREAMS)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
let gatewayOut = '';
gateway.stdout.on('data', (d) => (gatewayOut += d));
let workerOut = '';
worker.stdout!.on('data', (d) => (workerOut += d));
try {
  while (!/webhook (http:\S+)/.test(gatewayOut) || !workerOut.includes('openrtms worker')) await sleep(100);
  const url = /webhook (http:\S+)/.exec(gatewayOut)![1];
  const natsPid = Number(execFileSync('pgrep', ['-o', '-x', 'nats-server'], { encoding: 'utf8' }).trim());
  const emu = new Emulator({ ...creds, webhookUrl: url, meetings: STREAMS, scenario: demoScenario(DURATION_S + 15), seed: 3 });
  await emu.start();
  const joined = new Set<string>();
  emu.on('handshake', (h) => h.role === 'signaling' && h.statusCode === 0 && joined.add(h.rtmsStreamId));
  const running = emu.run();
  const t0 = Date.now();
  while (joined.size < STREAMS && Date.now() - t0 < 60_000) await sleep(100);
  await sleep(5000); // past the join burst
  const before = { worker: cpuMs(worker.pid!), nats: cpuMs(natsPid), at: performance.now() };
  await sleep(DURATION_S * 1000);
  const wall = (performance.now() - before.at) / 1000;
  const workerCpu = cpuMs(worker.pid!) - before.worker;
  const natsCpu = cpuMs(natsPid) - before.nats;
  const rss = rssMb(worker.pid!);
  const summary = await running;
  const perStream = (ms: number) => Math.round((ms / wall / STREAMS) * 1000) / 1000;
  console.log(
    JSON.stringify({
      streams: STREAMS,
      joined: joined.size,
      window_s: Math.round(wall * 10) / 10,
      worker_cpu_ms_per_stream_second: perStream(workerCpu),
      worker_streams_per_core: Math.floor(1000 / perStream(workerCpu)),
      nats_cpu_ms_per_stream_second: perStream(natsCpu),
      worker_rss_mb: Math.round(rss),
      frames_missed: summary.missed.audio,
      kicked: summary.connections.kicked,
    }),
  );
  await emu.close();
} finally {
  worker.kill('SIGTERM');
  gateway.kill('SIGTERM');
  await sleep(3000);
  worker.kill('SIGKILL');
  gateway.kill('SIGKILL');
  await admin.query(`DROP SCHEMA IF EXISTS "${run}" CASCADE`);
  await admin.end();
  await destroyCluster(NATS_URL, run);
  rmSync(dataDir, { recursive: true, force: true });
}
