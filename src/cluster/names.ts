/**
 * Names of everything openrtms keeps in NATS, derived from one cluster prefix so that several
 * clusters (or test runs) can share a NATS server without seeing each other.
 */

/** JetStream and KV names of one cluster. */
export interface ClusterNames {
  prefix: string;
  /** JetStream stream holding verified webhook events until a worker has applied them. */
  webhookStream: string;
  /** Subject of a webhook event, per lifecycle (started, stopped, interrupted). */
  webhookSubject(lifecycle: string): string;
  /** Durable consumer shared by every worker (each event goes to one of them). */
  webhookConsumer: string;
  /** KV bucket: one record per RTMS stream (where to connect, active or stopped). */
  streamsBucket: string;
  /** KV bucket with a TTL: which worker owns a stream now (the lease). */
  leasesBucket: string;
  /** KV bucket with a TTL: live workers and their load (heartbeats). */
  workersBucket: string;
  /** Subject of a live-feed message of one stream and kind. */
  liveSubject(streamKey: string, type: string): string;
  /** Every live-feed subject of the cluster. */
  liveWildcard: string;
}

const PREFIX = /^[A-Za-z0-9_-]{1,32}$/;

/** Names for the cluster `prefix` (letters, digits, `_` and `-`; default `openrtms`). */
export function clusterNames(prefix = 'openrtms'): ClusterNames {
  if (!PREFIX.test(prefix)) throw new RangeError(`cluster name must be 1-32 letters, digits, "_" or "-", got "${prefix}"`);
  return {
    prefix,
    webhookStream: `${prefix}_webhooks`,
    webhookSubject: (lifecycle) => `${prefix}.webhooks.${lifecycle}`,
    webhookConsumer: 'workers',
    streamsBucket: `${prefix}_streams`,
    leasesBucket: `${prefix}_leases`,
    workersBucket: `${prefix}_workers`,
    liveSubject: (streamKey, type) => `${prefix}.live.${streamKey}.${type}`,
    liveWildcard: `${prefix}.live.>`,
  };
}

/**
 * A stream id as a KV key and subject token. Zoom's ids may hold `/`, `+`, `=` or anything else, so
 * they are base64url-encoded: always valid, never ambiguous, and reversible with {@link streamIdOfKey}.
 */
export function streamKey(rtmsStreamId: string): string {
  return Buffer.from(rtmsStreamId, 'utf8').toString('base64url') || '_';
}

export function streamIdOfKey(key: string): string {
  return key === '_' ? '' : Buffer.from(key, 'base64url').toString('utf8');
}
