/**
 * Real storage servers for the object-storage destination tests, on 127.0.0.1 with free ports:
 * s3rver in-process (stoppable and restartable on the same port and directory, every request seen
 * on the server side), Azurite as a child process. Plus a finished recording made by the real Recorder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import S3rver from 's3rver';
import { Recorder } from '../../src/recorder/index.js';
import type { StreamInfo } from '../../src/pipeline/types.js';

export const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `openrtms-${tag}-`));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** An object write the server received: a PutObject or the start of a multipart upload. */
export interface ObjectWrite {
  key: string;
  kind: 'put' | 'multipart';
  /** The flexible-checksum header a PutObject carried (base64 SHA-256), or the algorithm announced for a multipart upload. */
  checksum?: string;
}

export class S3Server {
  readonly dir = tmp('s3rver');
  readonly writes: ObjectWrite[] = [];
  /** Every request, `METHOD path?query`. */
  readonly requests: string[] = [];
  #srv?: S3rver;
  /** Called on each request before s3rver answers it (a test stops the server mid-upload from here). */
  onRequest?: (req: IncomingMessage) => void;
  constructor(
    readonly port: number,
    readonly bucket = 'meetings',
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const srv = new S3rver({ port: this.port, address: '127.0.0.1', directory: this.dir, silent: true, configureBuckets: [{ name: this.bucket, configs: [] }] });
    await srv.run();
    const http = (srv as unknown as { httpServer: Server }).httpServer;
    http.prependListener('request', (req: IncomingMessage) => {
      const url = new URL(req.url ?? '/', 'http://x');
      this.requests.push(`${req.method} ${url.pathname}${url.search}`);
      const key = decodeURIComponent(url.pathname.slice(this.bucket.length + 2));
      const header = (name: string) => (typeof req.headers[name] === 'string' ? { checksum: req.headers[name] as string } : {});
      if (req.method === 'PUT' && !url.searchParams.has('uploadId')) this.writes.push({ key, kind: 'put', ...header('x-amz-checksum-sha256') });
      if (req.method === 'POST' && url.searchParams.has('uploads')) this.writes.push({ key, kind: 'multipart', ...header('x-amz-checksum-algorithm') });
      this.onRequest?.(req);
    });
    this.#srv = srv;
  }

  /** Stops listening and drops open connections (a server that went away, not one that drains). */
  async stop(): Promise<void> {
    const srv = this.#srv;
    this.#srv = undefined;
    if (!srv) return;
    const http = (srv as unknown as { httpServer: Server }).httpServer;
    const closed = srv.close();
    http.closeAllConnections();
    await closed;
  }

  writesOf(key: string): number {
    return this.writes.filter((w) => w.key === key).length;
  }
}

/** Azurite's blob service as a child process; the well-known development account. */
export class AzuriteServer {
  readonly dir = tmp('azurite');
  #child?: ChildProcess;
  constructor(readonly port: number) {}

  get connectionString(): string {
    return `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:${this.port}/devstoreaccount1;`;
  }

  async start(): Promise<void> {
    const child = spawn(
      join(process.cwd(), 'node_modules', '.bin', 'azurite-blob'),
      ['--blobHost', '127.0.0.1', '--blobPort', String(this.port), '--location', this.dir, '--skipApiVersionCheck', '--disableTelemetry', '--silent'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child = child;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`azurite did not start in 20 s: ${out}`)), 20_000);
      const seen = (b: Buffer) => {
        out += b.toString();
        if (/successfully listens/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', seen);
      child.stderr!.on('data', seen);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`azurite exited (${code}): ${out}`));
      });
    });
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

/**
 * A finished recording made by the real Recorder (mixed.wav, transcript.*, events.jsonl, chat.jsonl,
 * manifest.json), plus a large frame file (random bytes, beyond one multipart part) so the
 * multipart path is exercised and any byte mix-up shows.
 */
export async function makeRecording(dataDir: string, rtmsStreamId: string, bigBytes = 9 << 20): Promise<{ info: StreamInfo; dir: string }> {
  const t0 = Date.parse('2026-07-01T10:00:00Z');
  const info: StreamInfo = { rtmsStreamId, product: 'meeting', meetingUuid: 'mtg/uuid+1==', startedAt: t0 };
  const rec = new Recorder({ dataDir, info, flushMs: 100 });
  rec.onJoined({ audio: { codec: 1, sample_rate: 1, channel: 1, data_opt: 1 } } as never);
  for (let i = 0; i < 100; i++) {
    const pcm = Buffer.alloc(640);
    for (let s = 0; s < 320; s++) pcm.writeInt16LE(((i * 320 + s) % 2000) - 1000, s * 2);
    rec.onAudio({ userId: 0, userName: '', data: pcm, timestamp: t0 + i * 20, receivedAt: 0 });
  }
  rec.onTranscript({ userId: 7, userName: 'Ada', text: 'uploads must arrive whole', timestamp: t0 + 1000, startTime: t0, endTime: t0 + 1000 } as never);
  rec.onEvent({ type: 'participant_join', timestamp: t0, userId: 7, userName: 'Ada' });
  await rec.close();
  if (bigBytes > 0) {
    mkdirSync(join(rec.dir, 'frames'), { recursive: true });
    writeFileSync(join(rec.dir, 'frames', 'big.jpg'), randomBytes(bigBytes));
  }
  return { info, dir: rec.dir };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 50 ms until it holds or `ms` passes. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * An HTTP proxy in front of a storage server that records every request (what the server was asked,
 * in order). When the server is down the client's connection is cut, as if nobody answered.
 */
export class CountingProxy {
  readonly requests: { method: string; path: string; query: URLSearchParams }[] = [];
  onRequest?: (req: IncomingMessage) => void;
  /** Answers a request itself instead of forwarding it (true when it did). */
  intercept?: (req: IncomingMessage, res: import('node:http').ServerResponse) => boolean;
  #server?: Server;
  port = 0;
  constructor(readonly targetPort: number) {}

  async start(): Promise<void> {
    const server = createHttpServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      this.requests.push({ method: req.method ?? '', path: decodeURIComponent(url.pathname), query: url.searchParams });
      this.onRequest?.(req);
      if (this.intercept?.(req, res)) return;
      const up = httpRequest({ host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    const closed = new Promise((r) => s.close(r));
    s.closeAllConnections();
    await closed;
  }
}
