/**
 * A real RTMP server for the restream tests: Debian's nginx with its RTMP module, started with a
 * private prefix and config in a temp dir (`record all` into that dir), on a free port.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = '/usr/sbin/nginx';
export const RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

/** Why the tests cannot run here, or undefined when they can. */
export function rtmpUnavailable(): string | undefined {
  if (!existsSync(NGINX)) return `${NGINX} not installed (apt-get install nginx-light libnginx-mod-rtmp)`;
  if (!existsSync(RTMP_MODULE)) return `${RTMP_MODULE} missing (apt-get install libnginx-mod-rtmp)`;
  for (const bin of ['ffmpeg', 'ffprobe']) {
    try {
      execFileSync(bin, ['-version'], { stdio: 'ignore' });
    } catch {
      return `${bin} not installed (apt-get install ffmpeg)`;
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export interface RtmpServer {
  /** rtmp://127.0.0.1:PORT/live */
  base: string;
  recordDir: string;
  /** FLV files recorded so far, oldest first. */
  recordings(): string[];
  /** Waits until no recording has grown for `quietMs` (nginx closes a file when its publisher leaves). */
  settled(quietMs?: number, timeoutMs?: number): Promise<void>;
  errorLog(): string;
  close(): Promise<void>;
}

export async function startRtmpServer(opts: { append?: boolean } = {}): Promise<RtmpServer> {
  const dir = mkdtempSync(join(tmpdir(), 'openrtms-nginx-'));
  const recordDir = join(dir, 'rec');
  mkdirSync(recordDir);
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  // `user root`: the worker must be able to write the record dir (we run as root here).
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
master_process off;
user root;
load_module ${RTMP_MODULE};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
rtmp {
  server {
    listen 127.0.0.1:${port};
    application live {
      live on;
      record all;
      record_path ${recordDir};
      ${opts.append ? 'record_append on;' : ''}
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const t0 = Date.now();
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() - t0 > 10_000) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start: ${stderr.trim()} ${readIf(join(dir, 'error.log'))}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const recordings = () =>
    readdirSync(recordDir)
      .filter((f) => f.endsWith('.flv'))
      .map((f) => join(recordDir, f))
      .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  return {
    base: `rtmp://127.0.0.1:${port}/live`,
    recordDir,
    recordings,
    async settled(quietMs = 700, timeoutMs = 10_000) {
      const size = () => recordings().reduce((n, f) => n + statSync(f).size, 0);
      const end = Date.now() + timeoutMs;
      let last = size();
      let since = Date.now();
      while (Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        const now = size();
        if (now !== last) {
          last = now;
          since = Date.now();
        } else if (Date.now() - since >= quietMs) return;
      }
    },
    errorLog: () => readIf(join(dir, 'error.log')),
    async close() {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readIf(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export interface Probe {
  codecs: string[];
  duration: number;
  streams: { codec: string; type: string; duration: number; start: number }[];
}

/** ffprobe of a recorded FLV: its streams and how long it plays (last packet time). */
export function probeFlv(file: string): Probe {
  const out = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=index,codec_name,codec_type,start_time:format=duration', '-of', 'json', file], { encoding: 'utf8' }),
  );
  // Per stream: the span of its packets (FLV has no per-stream duration header when written live).
  const streams = (out.streams as { codec_name: string; codec_type: string; start_time?: string; index: number }[]).map((s) => {
    const pk = execFileSync('ffprobe', ['-v', 'error', '-select_streams', String(s.index), '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', file], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split(',').map(Number));
    const first = pk[0]?.[0] ?? 0;
    const last = pk.at(-1) ?? [0, 0];
    return { codec: s.codec_name, type: s.codec_type, start: first, duration: last[0] + (last[1] || 0) - first };
  });
  return { codecs: streams.map((s) => s.codec).sort(), duration: Number(out.format.duration), streams };
}
