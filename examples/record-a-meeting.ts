/**
 * Records every announced stream to ./recordings-example (gap-filled WAV, transcripts, chat, events,
 * manifest) and stores transcripts in SQLite for search — the same pipeline `openrtms serve` runs.
 * Run: ZM_RTMS_CLIENT=… ZM_RTMS_SECRET=… ZOOM_SECRET_TOKEN=… npx tsx examples/record-a-meeting.ts [port] [dir]
 */
import { createRuntime } from '../src/server/runtime.js';
import { openStore } from '../src/store/open.js';

const port = Number(process.argv[2] ?? 8080);
const dataDir = process.argv[3] ?? './recordings-example';
const store = await openStore({ dataDir, databaseUrl: null });
const runtime = createRuntime({
  clientId: process.env.ZM_RTMS_CLIENT ?? '',
  clientSecret: process.env.ZM_RTMS_SECRET ?? '',
  secretToken: process.env.ZOOM_SECRET_TOKEN ?? '',
  webhookPath: '/webhook',
  store,
  dataDir,
  logger: { info: (o, m) => console.log(m, JSON.stringify(o)), warn: (o, m) => console.warn(m, JSON.stringify(o)) },
});
const { url } = await runtime.app.listen(port, '127.0.0.1');
console.log(`recording streams announced to ${url}/webhook into ${dataDir}`);
process.once('SIGINT', () => void runtime.shutdown().then(() => process.exit(0)));
process.once('SIGTERM', () => void runtime.shutdown().then(() => process.exit(0)));
