/**
 * Gateway side of the cluster: a verified webhook event is published to JetStream before Zoom gets
 * its 200, with the webhook's identity as the message id, so Zoom's retries — to this gateway or to
 * any other — are stored once.
 */
import { ClusterError } from '../errors.js';
import type { StreamEvent } from '../webhook/handler.js';
import type { Cluster } from './connection.js';

/**
 * The identity of a webhook: a stream stops once, so event + stream id name a stop; it starts once
 * per RTMS server (a new start with new `server_urls` is a failover, not a retry), so a start's
 * signaling URL is part of it; interruptions can repeat, so their `event_ts` is part of theirs.
 */
export function webhookIdentity(e: StreamEvent): string {
  const base = `${e.event}:${e.rtmsStreamId}`;
  if (e.lifecycle === 'interrupted') return `${base}:${e.eventTs ?? ''}`;
  if (e.lifecycle === 'started') return `${base}:${e.payload.server_urls ?? ''}`;
  return base;
}

export interface PublishResult {
  /** JetStream had this webhook already (a retry of Zoom's). */
  duplicate: boolean;
  seq: number;
}

export class WebhookQueue {
  constructor(
    private readonly cluster: Cluster,
    private readonly timeoutMs = 2000,
  ) {}

  /** Stores the event in JetStream; rejects with a ClusterError when NATS cannot take it now. */
  async publish(event: StreamEvent): Promise<PublishResult> {
    try {
      const ack = await this.cluster.js.publish(this.cluster.names.webhookSubject(event.lifecycle), JSON.stringify(event), {
        msgID: webhookIdentity(event),
        timeout: this.timeoutMs,
      });
      return { duplicate: ack.duplicate, seq: ack.seq };
    } catch (err) {
      throw new ClusterError('CLUSTER_UNAVAILABLE', `webhook not queued: ${(err as Error).message}`, { streamId: event.rtmsStreamId });
    }
  }
}
