/** Scale-out on NATS JetStream: webhook queue, stream ownership leases, placement, live fan-out. */
export { connectCluster, destroyCluster, type Cluster, type ClusterConnectOptions } from './connection.js';
export { clusterNames, streamKey, streamIdOfKey, type ClusterNames } from './names.js';
export { WebhookQueue, webhookIdentity, type PublishResult } from './webhook-queue.js';
export { ClusterWorker, type ClusterWorkerOptions, type ClusterWorkerEvents, type ClaimedEvent } from './worker.js';
export { ClusterView, type ClusterStreamStatus } from './view.js';
export { publishLiveFeed, subscribeLiveFeed } from './live-relay.js';
export { closeOrphanedStream } from './finalize.js';
export { placeStreams, rankFor, type WorkerLoad } from './placement.js';
export type { StreamRecord, LeaseRecord, WorkerRecord } from './records.js';
