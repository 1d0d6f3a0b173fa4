/**
 * One side of `openrtms bench`, run in its own process so its CPU and memory are its own: a webhook
 * receiver that joins every announced stream either with the full pipeline exactly as `serve` runs
 * it (RtmsClient, recorder, store, live bus with audio levels, metrics) or with the bare floor client.
 * Prints its report when "report" arrives on stdin.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAudioDecoder, type AudioDecoder } from '../media/codec.js';
import { SAMPLE_RATE_HZ, type MediaKind, type SampleRate } from '../protocol/index.js';
import { createRuntime } from '../server/runtime.js';
import { openStore } from '../store/open.js';
import { floorJoin } from './floor.js';
import { LatencyHistogram } from './latency.js';
import type { StreamSink } from '../pipeline/types.js';

export interface ReceiverReport {
  frames: number;
  cpu_ms: number;
  rss_mb: number;
  baseline_rss_mb: number;
  latency_ms: { p50: number; p99: number };
  decode_errors: number;
}

export async function runReceiver(mode: 'floor' | 'full', media: MediaKind[], creds: { clientId: string; clientSecret: string; secretToken: string }): Promise<void> {
  const latency = new LatencyHistogram();
  const counters = { frames: 0, latency, decodeErrors: 0 };
  globalThis.gc?.();
  const baselineRss = process.memoryUsage().rss;
  let cpuStart: NodeJS.CpuUsage | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'openrtms-bench-'));
  let url: string;
  let stop: () => Promise<void>;
  if (mode === 'full') {
    const store = await openStore({ dataDir: dir, databaseUrl: null });
    // Measures frame-to-sink latency and decodes audio as a recorder would.
    const measure = (): StreamSink => {
      let decoder: AudioDecoder | undefined;
      return {
        onJoined(params) {
          const a = params.audio;
          if (a?.codec !== undefined) decoder = createAudioDecoder(a.codec, SAMPLE_RATE_HZ[(a.sample_rate ?? 1) as SampleRate], a.channel ?? 1);
        },
        onAudio(f) {
          counters.frames++;
          latency.record(Date.now() - f.timestamp);
          try {
            decoder?.decode(f.data);
          } catch {
            counters.decodeErrors++;
          }
        },
        onVideo(f) {
          counters.frames++;
          latency.record(Date.now() - f.timestamp);
        },
        onShare(f) {
          counters.frames++;
          latency.record(Date.now() - f.timestamp);
        },
        onTranscript(f) {
          counters.frames++;
          latency.record(Date.now() - f.timestamp);
        },
        onChat() {
          counters.frames++;
        },
        async close() {},
      };
    };
    const runtime = createRuntime({ ...creds, webhookPath: '/webhook', store, dataDir: dir, extraSinks: () => [measure()], client: { media } });
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
  let buffered = '';
  for await (const chunk of process.stdin) {
    buffered += chunk;
    if (buffered.includes('start')) {
      cpuStart = process.cpuUsage();
      buffered = '';
    }
    if (buffered.includes('report')) break;
  }
  const cpu = process.cpuUsage(cpuStart);
  const report: ReceiverReport = {
    frames: counters.frames,
    cpu_ms: (cpu.user + cpu.system) / 1000,
    rss_mb: process.memoryUsage().rss / 2 ** 20,
    baseline_rss_mb: baselineRss / 2 ** 20,
    latency_ms: { p50: latency.percentile(50), p99: latency.percentile(99) },
    decode_errors: counters.decodeErrors,
  };
  process.stdout.write(JSON.stringify(report) + '\n');
  await stop();
  rmSync(dir, { recursive: true, force: true });
}
