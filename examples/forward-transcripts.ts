/**
 * Forwards every transcript line, as JSON, to your own HTTP endpoint (FORWARD_URL) as it arrives.
 * A StreamSink is the extension point: it gets every frame and event of one stream, must not block,
 * and is flushed when the stream ends.
 * Run: FORWARD_URL=https://example.internal/hook ZM_RTMS_CLIENT=… ZM_RTMS_SECRET=… ZOOM_SECRET_TOKEN=… npx tsx examples/forward-transcripts.ts [port]
 */
import type { StreamInfo, StreamSink, TranscriptFrame } from '../src/pipeline/types.js';
import { createRuntime } from '../src/server/runtime.js';
import { openStore } from '../src/store/open.js';

const target = process.env.FORWARD_URL ?? 'http://127.0.0.1:9999/transcripts';
const port = Number(process.argv[2] ?? 8080);

/** Posts each line; failures are counted and reported, never thrown into the pipeline. */
class ForwardSink implements StreamSink {
  #pending = new Set<Promise<void>>();
  failed = 0;
  constructor(private readonly info: StreamInfo) {}
  onTranscript(t: TranscriptFrame): void {
    const body = JSON.stringify({ stream: this.info.rtmsStreamId, meeting: this.info.meetingUuid, speaker: t.userName, text: t.text, timestamp: t.timestamp });
    const p = fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      .then((r) => void (r.ok || this.failed++))
      .catch(() => void this.failed++)
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }
  async close(): Promise<void> {
    await Promise.all(this.#pending);
    if (this.failed) console.warn(`${this.failed} transcript line(s) could not be forwarded for ${this.info.rtmsStreamId}`);
  }
}

const store = await openStore({ dataDir: process.env.OPENRTMS_DATA_DIR ?? './forward-example', databaseUrl: null });
const runtime = createRuntime({
  clientId: process.env.ZM_RTMS_CLIENT ?? '',
  clientSecret: process.env.ZM_RTMS_SECRET ?? '',
  secretToken: process.env.ZOOM_SECRET_TOKEN ?? '',
  webhookPath: '/webhook',
  store,
  client: { media: ['transcript', 'chat'] },
  extraSinks: (info) => [new ForwardSink(info)],
});
const { url } = await runtime.app.listen(port, '127.0.0.1');
console.log(`forwarding transcripts of streams announced to ${url}/webhook to ${target}`);
process.once('SIGINT', () => void runtime.shutdown().then(() => process.exit(0)));
process.once('SIGTERM', () => void runtime.shutdown().then(() => process.exit(0)));
