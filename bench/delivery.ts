/**
 * What each delivery destination costs per stream: `openrtms serve` (a child process) records N
 * emulated meetings in real time once with no destination and once per destination kind, each
 * against a real local server (an HTTP receiver, s3rver, Azurite, nginx-rtmp, as the tests start
 * them); the difference in serve's CPU from the meeting's start until everything is delivered (its
 * own, and its reaped child processes': ffmpeg for RTMP, and for the live thumbnails every run has) per
 * stream-second is the destination's cost. Uploads finish before serve's CPU is read, so they count.
 *
 * Run: `npx tsx bench/delivery.ts [--streams 4] [--duration 20]`. Prints one JSON object and a table.
 */
import { createServer } from 'node:http';
import { AzuriteServer, S3Server, freePort } from '../test/delivery/storage-helpers.js';
import { startRtmpServer } from '../test/delivery/rtmp-server.js';
import { sleep, startServe } from './serve-child.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const STREAMS = arg('streams', 4);
const DURATION_S = arg('duration', 20);
async function measure(label: string, destinations: unknown[], streams: number): Promise<{ label: string; streams: number; own: number; children: number }> {
  const serve = await startServe({ destinations }, 'dlv');
  // From here on: start-up (module loading, SDK clients) is not the destination's per-stream cost.
  const before = serve.cpu();
  await serve.emulate(streams, DURATION_S);
  // Everything queued (uploads, webhooks) delivered before the CPU is read.
  for (let i = 0; i < 600; i++) {
    const body = (await (await fetch(`${serve.base}/api/delivery`)).json()) as { destinations: { stats: { queued: number } }[] };
    const list = (await (await fetch(`${serve.base}/api/streams`)).json()) as { streams: { state: string }[] };
    if (body.destinations.every((d) => d.stats.queued === 0) && list.streams.every((s) => s.state === 'stopped')) break;
    await sleep(100);
  }
  await sleep(1500); // recording.ready events after the uploads
  const after = serve.cpu();
  await serve.stop();
  return { label, streams, own: after.own - before.own, children: after.children - before.children };
}

const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(204).end());
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
const s3 = new S3Server(await freePort());
await s3.start();
const azure = new AzuriteServer(await freePort());
await azure.start();
const rtmp = await startRtmpServer();

try {
  // One RTMP URL takes one publisher, so the restream is measured on one stream against its own baseline.
  const cases: [string, unknown[], number][] = [
    ['none', [], STREAMS],
    ['webhook', [{ type: 'webhook', url: hookUrl, secret: 'bench' }], STREAMS],
    ['s3', [{ type: 's3', bucket: s3.bucket, endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }], STREAMS],
    ['azure-blob', [{ type: 'azure-blob', connectionString: azure.connectionString, container: 'bench' }], STREAMS],
    ['none', [], 1],
    ['rtmp', [{ type: 'rtmp', url: `${rtmp.base}/bench` }], 1],
  ];
  const results: Awaited<ReturnType<typeof measure>>[] = [];
  for (const [label, destinations, streams] of cases) results.push(await measure(label, destinations, streams));
  const baseline = (streams: number) => results.find((r) => r.label === 'none' && r.streams === streams)!;
  const rows = results.map((r) => {
    const streamSeconds = r.streams * DURATION_S;
    return {
      destination: r.label,
      streams: r.streams,
      serve_cpu_ms: Math.round(r.own),
      children_cpu_ms: Math.round(r.children),
      extra_ms_per_stream_second: r.label === 'none' ? 0 : Math.round(((r.own - baseline(r.streams).own) / streamSeconds) * 100) / 100,
      children_extra_ms_per_stream_second: r.label === 'none' ? 0 : Math.round(((r.children - baseline(r.streams).children) / streamSeconds) * 100) / 100,
    };
  });
  console.log(JSON.stringify({ streams: STREAMS, duration_s: DURATION_S, rows }));
  console.log('| destination | streams | serve CPU (ms) | extra in serve per stream-second (ms) | extra in child processes (ffmpeg) per stream-second (ms) |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.destination} | ${r.streams} | ${r.serve_cpu_ms} | ${r.extra_ms_per_stream_second} | ${r.children_extra_ms_per_stream_second} |`);
} finally {
  receiver.close();
  await s3.stop();
  await azure.stop();
  await rtmp.close();
}
