/**
 * Our own side under the same conformance runs: webhooks verified and classified by the real
 * webhook handler (Zoom retries vs. server failover), acted on by the real StreamRegistry, which
 * drives one RtmsClient per stream.
 */
import { StreamRegistry } from '../../../src/sessions/registry.js';
import { createWebhookHandler } from '../../../src/webhook/handler.js';
import { signWebhook } from '../../../src/protocol/index.js';
import type { RtmsClientOptions } from '../../../src/client/index.js';
import { zeroFrames, type ConformanceClient, type Credentials, type Frames, type Webhook } from './common.js';

export class GatewayClient implements ConformanceClient {
  readonly name = 'RtmsClient via the gateway';
  readonly registry: StreamRegistry;
  /** What the handler made of each webhook: 'event', or its note (duplicate, after-stop...). */
  readonly outcomes: string[] = [];
  readonly #handle: ReturnType<typeof createWebhookHandler>;
  readonly #secretToken: string;

  constructor(creds: Credentials & { secretToken: string }, client: RtmsClientOptions = {}) {
    this.#secretToken = creds.secretToken;
    this.#handle = createWebhookHandler({ secretToken: creds.secretToken });
    this.registry = new StreamRegistry({ client: { clientId: creds.clientId, clientSecret: creds.clientSecret, ...client }, sinks: () => [] });
  }

  webhook(w: Webhook): void {
    const raw = Buffer.from(JSON.stringify({ ...w, event_ts: Date.now() }));
    const outcome = this.#handle(raw, signWebhook(this.#secretToken, raw));
    this.outcomes.push(outcome.event ? (outcome.event.failover ? 'failover' : outcome.event.lifecycle) : (outcome.note ?? String(outcome.status)));
    if (outcome.event) this.registry.handle(outcome.event);
  }

  frames(streamId: string): Frames {
    const f = this.registry.get(streamId)?.client.stats.frames;
    if (!f) return zeroFrames();
    return { audio: f.audio, video: f.video, share: f.deskshare, transcript: f.transcript, chat: f.chat };
  }

  close(): void {
    void this.registry.shutdown(1000);
  }
}
