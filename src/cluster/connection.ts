/**
 * One process's connection to the cluster: NATS with JetStream. Creates (idempotently) the webhook
 * stream, its shared consumer and the three KV buckets, and reconnects forever when NATS goes away —
 * a worker keeps receiving media from Zoom while NATS restarts.
 */
import { AckPolicy, DiscardPolicy, RetentionPolicy, StorageType, connect, nanos, type JetStreamClient, type JetStreamManager, type KV, type NatsConnection } from 'nats';
import { ClusterError } from '../errors.js';
import { clusterNames, type ClusterNames } from './names.js';

export interface ClusterConnectOptions {
  /** nats://host:port (comma list for several servers). */
  url: string;
  /** Cluster prefix (see {@link clusterNames}). Default `openrtms`. */
  prefix?: string;
  /** Shown in NATS's connection list. */
  name?: string;
  /** How long a lease or worker heartbeat lives without renewal. Default 3000 ms. */
  leaseTtlMs?: number;
  /** Zoom's retries of one webhook are de-duplicated within this window. Default 10 min. */
  duplicateWindowMs?: number;
}

export interface Cluster {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: ClusterNames;
  streams: KV;
  leases: KV;
  workers: KV;
  leaseTtlMs: number;
  /** Drains and closes the connection. Idempotent. */
  close(): Promise<void>;
}

/** Connects and makes sure the stream, consumer and buckets exist. Fails with a ClusterError when NATS cannot be reached. */
export async function connectCluster(o: ClusterConnectOptions): Promise<Cluster> {
  const names = clusterNames(o.prefix);
  const leaseTtlMs = o.leaseTtlMs ?? 3000;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: o.url.split(',').map((s) => s.trim()),
      name: o.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      pingInterval: 5000,
      maxPingOut: 2,
      timeout: 5000,
    });
  } catch (err) {
    throw new ClusterError('CLUSTER_UNAVAILABLE', `cannot connect to NATS at ${o.url}: ${(err as Error).message}`);
  }
  try {
    const jsm = await nc.jetstreamManager();
    await ensureWebhookStream(jsm, names, o.duplicateWindowMs ?? 10 * 60_000);
    const js = nc.jetstream();
    const [streams, leases, workers] = await Promise.all([
      js.views.kv(names.streamsBucket, { history: 1, storage: StorageType.File }),
      js.views.kv(names.leasesBucket, { history: 1, ttl: leaseTtlMs, storage: StorageType.File }),
      js.views.kv(names.workersBucket, { history: 1, ttl: leaseTtlMs, storage: StorageType.File }),
    ]);
    let closing: Promise<void> | undefined;
    return {
      nc,
      js,
      jsm,
      names,
      streams,
      leases,
      workers,
      leaseTtlMs,
      close: () => (closing ??= nc.drain().catch(() => nc.close())),
    };
  } catch (err) {
    await nc.close().catch(() => {});
    throw new ClusterError('CLUSTER_UNAVAILABLE', `NATS at ${o.url} has no usable JetStream (start nats-server with -js): ${(err as Error).message}`);
  }
}

async function ensureWebhookStream(jsm: JetStreamManager, names: ClusterNames, duplicateWindowMs: number): Promise<void> {
  const exists = await jsm.streams.info(names.webhookStream).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await jsm.streams.add({
      name: names.webhookStream,
      subjects: [`${names.prefix}.webhooks.>`],
      // An event stays until a worker has applied it to the streams bucket, then it is gone.
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(24 * 3600_000),
      duplicate_window: nanos(duplicateWindowMs),
    });
  }
  const consumer = await jsm.consumers.info(names.webhookStream, names.webhookConsumer).catch(() => undefined);
  if (!consumer) {
    await jsm.consumers
      .add(names.webhookStream, { durable_name: names.webhookConsumer, ack_policy: AckPolicy.Explicit, ack_wait: nanos(15_000), max_deliver: -1 })
      .catch(async (err: Error) => {
        // Another process created it at the same moment: fine.
        if (!(await jsm.consumers.info(names.webhookStream, names.webhookConsumer).catch(() => undefined))) throw err;
      });
  }
}

/** Deletes every stream and bucket of a cluster prefix (tests and `worker --reset`). */
export async function destroyCluster(url: string, prefix: string): Promise<void> {
  const names = clusterNames(prefix);
  const nc = await connect({ servers: url });
  try {
    const jsm = await nc.jetstreamManager();
    for (const s of [names.webhookStream, `KV_${names.streamsBucket}`, `KV_${names.leasesBucket}`, `KV_${names.workersBucket}`]) await jsm.streams.delete(s).catch(() => false);
  } finally {
    await nc.close();
  }
}
