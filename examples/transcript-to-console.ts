/**
 * Prints every transcript line of every stream announced to this webhook endpoint.
 * Run: ZM_RTMS_CLIENT=… ZM_RTMS_SECRET=… ZOOM_SECRET_TOKEN=… npx tsx examples/transcript-to-console.ts [port]
 */
import { createServer } from 'node:http';
import { RtmsClient, createWebhookHandler } from '../src/index.js';

const port = Number(process.argv[2] ?? process.env.ZM_RTMS_PORT ?? 8080);
const handle = createWebhookHandler({ secretToken: process.env.ZOOM_SECRET_TOKEN ?? '' });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const outcome = handle(Buffer.concat(chunks), req.headers);
    res.writeHead(outcome.status, { 'content-type': 'application/json' }).end(JSON.stringify(outcome.body));
    if (outcome.event?.lifecycle !== 'started') return;
    const client = new RtmsClient({ media: ['transcript'] });
    client.on('transcript', (t) => console.log(`[${new Date(t.timestamp).toISOString()}] ${t.userName}: ${t.text}`));
    client.on('closed', (e) => console.log(`stream ${outcome.event!.rtmsStreamId} ended (${e.reason})`));
    client.join(outcome.event.payload as never).catch((err: Error) => console.error(`join failed: ${err.message}`));
  });
});
server.listen(port, '127.0.0.1', () => console.log(`listening for webhooks on http://127.0.0.1:${port}/`));
