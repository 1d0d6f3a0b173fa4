/**
 * Chaos-suite helpers: the real server runtime (createRuntime, the same wiring as `openrtms serve`)
 * listening on loopback, a scenario dense in transcripts and chat, and readers for what a stream
 * left behind (store rows, recording files) to compare with what the emulator delivered.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/server/runtime.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';
import type { Scenario, ScenarioItem } from '../../src/emulator/scenario.js';
import type { EmulatedStream } from '../../src/emulator/stream.js';
import { safeName } from '../../src/recorder/paths.js';
import { parseChatData } from '../../src/protocol/index.js';

export const CREDS = { clientId: 'chaos-client', clientSecret: 'chaos-secret' };
export const TOKEN = 'chaos-token';

/** Client resilience for short scenarios: sub-second dead-socket detection, fast backoff. */
export const FAST_CLIENT: RuntimeOptions['client'] = {
  reconnect: { initialDelayMs: 50, maxDelayMs: 400, jitter: 0.2, maxAttempts: 30 },
  keepAliveToleranceMs: { signaling: 800, media: 800 },
};

const dirs: string[] = [];
export function tmp(prefix = 'openrtms-chaos-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
export function cleanupDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface LogLine {
  /** Date.now() when it was logged. */
  at: number;
  level: 'info' | 'warn';
  obj: Record<string, unknown>;
  msg?: string;
}

export interface Serve {
  runtime: Runtime;
  url: string;
  webhookUrl: string;
  dataDir?: string;
  store: Store;
  logs: LogLine[];
  /** Resolves when every stream the registry knows has closed and its sinks are flushed. */
  settled(timeoutMs?: number): Promise<void>;
  shutdown(): Promise<void>;
}

/** The serve runtime on 127.0.0.1:0 with SQLite (unless `store` is given) and recordings in `dataDir`. */
export async function startServe(o: { dataDir?: string | null; store?: Store; client?: RuntimeOptions['client'] } = {}): Promise<Serve> {
  const dataDir = o.dataDir === null ? undefined : (o.dataDir ?? tmp());
  const store = o.store ?? (await openStore({ dataDir: tmp('openrtms-chaos-db-'), databaseUrl: null }));
  const logs: LogLine[] = [];
  const logger = {
    info: (obj: object, msg?: string) => void logs.push({ at: Date.now(), level: 'info', obj: obj as Record<string, unknown>, msg }),
    warn: (obj: object, msg?: string) => void logs.push({ at: Date.now(), level: 'warn', obj: obj as Record<string, unknown>, msg }),
  };
  const runtime = createRuntime({ ...CREDS, secretToken: TOKEN, webhookPath: '/webhook', store, dataDir, logger, client: o.client ?? FAST_CLIENT });
  const { url } = await runtime.app.listen(0, '127.0.0.1');
  return {
    runtime,
    url,
    webhookUrl: `${url}/webhook`,
    dataDir,
    store,
    logs,
    async settled(timeoutMs = 10_000) {
      const t0 = Date.now();
      for (;;) {
        const entries = runtime.registry.list().map((s) => runtime.registry.get(s.rtmsStreamId)!);
        if (entries.every((e) => e.closed)) {
          await Promise.all(entries.map((e) => e.pipeline.close()));
          return;
        }
        if (Date.now() - t0 > timeoutMs) throw new Error(`streams still open after ${timeoutMs} ms: ${runtime.registry.list().filter((s) => !s.closeReason).map((s) => `${s.rtmsStreamId}:${s.state}`).join(', ')}`);
        await sleep(50);
      }
    },
    shutdown: () => runtime.shutdown(),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A meeting dense in text: three people, synthetic speech lines of 400 ms every 200 ms (each ends
 * with a transcript), a chat message every 150 ms, no cameras (keeps concurrent runs light).
 * Texts are numbered so a lost or duplicated line is visible.
 */
export function chaosScenario(durationS: number, opts: { video?: boolean } = {}): Scenario {
  const participants = [
    { user_id: 16778240, user_name: 'Ada', video: opts.video ?? false },
    { user_id: 16779264, user_name: 'Grace', video: opts.video ?? false },
    { user_id: 16780288, user_name: 'Linus', video: opts.video ?? false },
  ];
  const timeline: ScenarioItem[] = [];
  let n = 0;
  for (let t = 0.1; t + 0.45 < durationS; t += 0.2) {
    const p = participants[n % participants.length];
    timeline.push({ at: Math.round(t * 1000) / 1000, type: 'speak', user_id: p.user_id, text: `line ${n} from ${p.user_name}`, duration: 0.4 });
    n++;
  }
  let c = 0;
  for (let t = 0.05; t < durationS - 0.1; t += 0.15) {
    const p = participants[(c + 1) % participants.length];
    timeline.push({ at: Math.round(t * 1000) / 1000, type: 'chat', user_id: p.user_id, text: `chat ${c} by ${p.user_name}` });
    c++;
  }
  timeline.sort((a, b) => a.at - b.at);
  return { name: 'chaos', duration_s: durationS, participants, timeline };
}

/** What the emulator delivered to a client socket for one stream (needs `recordSent: true`). */
export function delivered(stream: EmulatedStream): { transcript: string[]; chat: string[]; audioAtMs: number[] } {
  const out = { transcript: [] as string[], chat: [] as string[], audioAtMs: [] as number[] };
  for (const r of stream.sentLog) {
    if (r.kind === 'transcript') out.transcript.push(JSON.parse(r.message).content.data as string);
    // Chat v2 wraps the text in a JSON string: the text is what a client keeps.
    else if (r.kind === 'chat') out.chat.push(parseChatData(JSON.parse(r.message).content.data).text);
    else if (r.kind === 'audio') out.audioAtMs.push(r.at_ms);
  }
  return out;
}

export interface Recording {
  dir: string;
  manifest: {
    complete: boolean;
    gaps: { track: string; atMs: number; durationMs: number }[];
    counts: Record<string, number>;
    files: { path: string; duration_ms: number }[];
    [k: string]: unknown;
  };
  transcript: string[];
  chat: string[];
}

export function readRecording(dataDir: string, rtmsStreamId: string): Recording {
  const dir = join(dataDir, 'recordings', safeName(rtmsStreamId));
  const lines = (f: string) =>
    existsSync(join(dir, f))
      ? readFileSync(join(dir, f), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l).text as string)
      : [];
  return { dir, manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')), transcript: lines('transcript.jsonl'), chat: lines('chat.jsonl') };
}

/** Nearest-rank percentile of a list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * A TCP proxy on 127.0.0.1 in front of `target` that can be cut and restored: cut() closes the
 * listening socket (new connections are refused) and resets every open connection; restore()
 * listens again on the same port. blackhole() is the nastier outage: nothing is refused or reset,
 * bytes just stop flowing, and the connections open at that moment never carry a byte again (as
 * when a NAT or load balancer loses its state); restore() then forwards new connections only.
 */
export class CuttableProxy {
  readonly #target: { host: string; port: number };
  #server?: import('node:net').Server;
  readonly #sockets = new Set<import('node:net').Socket>();
  #blackholed = false;
  port = 0;
  connections = 0;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  async start(): Promise<this> {
    const net = await import('node:net');
    this.#server = net.createServer((client) => {
      this.connections++;
      if (this.#blackholed) {
        this.#swallow(client);
        return;
      }
      const upstream = net.createConnection(this.#target);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.#server.address() as import('node:net').AddressInfo).port;
    return this;
  }

  /** Refuses new connections and resets the open ones. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    for (const s of this.#sockets) s.resetAndDestroy();
    await closed;
  }

  /** Bytes stop flowing, silently, on every open connection (for good) and on new ones (until restore). */
  blackhole(): void {
    this.#blackholed = true;
    for (const s of this.#sockets) {
      s.unpipe();
      this.#swallow(s);
    }
  }

  #swallow(s: import('node:net').Socket): void {
    s.removeAllListeners('data');
    s.on('data', () => {});
    s.on('error', () => {});
    s.resume();
  }

  async restore(): Promise<void> {
    this.#blackholed = false;
    if (!this.#server) await this.start();
  }

  async close(): Promise<void> {
    await this.cut();
    for (const s of this.#sockets) s.destroy();
  }
}
