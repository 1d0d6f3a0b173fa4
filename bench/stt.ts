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
import { startDeepgramStandIn } from '../test/helpers/stt/deepgram-server.js';
import { sleep, startServe } from './serve-child.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const STREAMS = arg('streams', 4);
const DURATION_S = arg('duration', 20);
const ROUNDS = arg('rounds', 2);

async function measure(transcription: unknown[]): Promise<number> {
  const serve = await startServe(transcription.length ? { transcription } : {}, 'stt');
  const before = serve.cpu().own;
  await serve.emulate(STREAMS, DURATION_S);
  for (let i = 0; i < 300; i++) {
    const streams = (await (await fetch(`${serve.base}/api/streams`)).json()) as { streams: { state: string }[] };
    if (streams.streams.length === STREAMS && streams.streams.every((s) => s.state === 'stopped')) break;
    await sleep(100);
  }
  await sleep(1000);
  const cpu = serve.cpu().own - before;
  await serve.stop();
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
