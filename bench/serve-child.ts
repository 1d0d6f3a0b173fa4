/**
 * Shared by the benchmarks that measure what a config entry costs `openrtms serve`: serve as a child
 * process with a config file, N emulated meetings in real time against it, and serve's CPU read from
 * /proc (its own, and its reaped children's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readProcStat } from '../src/bench/proc.js';
import { freePort } from '../test/delivery/storage-helpers.js';

const CREDS = { ZM_RTMS_CLIENT: 'bench-client', ZM_RTMS_SECRET: 'bench-secret', ZOOM_SECRET_TOKEN: 'bench-token' };
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(cmd: string[]): ChildProcess {
  return spawn(process.execPath, ['bin/openrtms.js', ...cmd], { env: { ...process.env, ...CREDS, ZM_RTMS_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface ServeChild {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** serve's CPU so far in ms: its own (user + system) and its reaped children's. */
  cpu(): { own: number; children: number };
  /** Runs `emulate` with N meetings of S seconds against serve; resolves when the emulator exits. */
  emulate(meetings: number, durationS: number): Promise<void>;
  /** Stops serve (SIGTERM) and removes its data directory. */
  stop(): Promise<void>;
}

/** Starts `openrtms serve` with `config` as its config file; resolves once /healthz answers. */
export async function startServe(config: object, label: string): Promise<ServeChild> {
  const dataDir = mkdtempSync(join(tmpdir(), `openrtms-bench-${label}-`));
  const configFile = join(dataDir, 'openrtms.config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const port = await freePort();
  const serve = run(['serve', '--port', String(port), '--data-dir', dataDir, '--config', configFile]);
  let out = '';
  serve.stdout!.on('data', (d) => (out += d));
  serve.stderr!.on('data', (d) => (out += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) break;
    if (i > 100) throw new Error(`serve did not start: ${out}`);
    await sleep(100);
  }
  return {
    base,
    cpu() {
      const stat = readProcStat(`/proc/${serve.pid}/stat`);
      if (!stat) throw new Error('serve CPU cannot be read: /proc is needed (Linux)');
      return { own: stat.cpuMs, children: stat.childrenCpuMs };
    },
    async emulate(meetings, durationS) {
      const emu = run(['emulate', '--webhook-url', `${base}/webhook`, '--port', '0', '--meetings', String(meetings), '--duration', String(durationS), '--json']);
      await new Promise((r) => emu.on('exit', r));
    },
    async stop() {
      serve.kill('SIGTERM');
      await new Promise((r) => serve.on('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
