/**
 * Zoom's failover contract in cluster mode, against the real NATS JetStream: the gateway queues every
 * verified webhook (no ledger of its own), and the worker that owns a stream follows what Zoom
 * announces — a new `*.rtms_started` with new `server_urls` (RTMS server failure) moves its client to
 * the new server, `*.rtms_interrupted` makes it reconnect now.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterWorker, WebhookQueue, connectCluster, destroyCluster, streamKey, type StreamRecord } from '../../src/cluster/index.js';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { signWebhook } from '../../src/protocol/index.js';
import { StreamRegistry } from '../../src/sessions/registry.js';
import { createWebhookHandler } from '../../src/webhook/handler.js';
import { reachable } from '../helpers/cluster-env.js';

const NATS_URL = process.env.OPENRTMS_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const natsUp = await reachable(NATS_URL);
const CREDS = { clientId: 'cluster-client', clientSecret: 'cluster-secret', secretToken: 'cluster-token' };
const cleanups: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const f of cleanups.reverse()) await Promise.resolve(f()).catch(() => {});
});

async function clusterRun(fault: string) {
  const prefix = `fo${process.pid}x${Date.now() % 1e6}`;
  const cluster = await connectCluster({ url: NATS_URL, prefix, leaseTtlMs: 2000 });
  cleanups.push(() => destroyCluster(NATS_URL, prefix));
  cleanups.push(() => cluster.close());
  const registry = new StreamRegistry({ client: { ...CREDS, reconnect: { initialDelayMs: 50, maxDelayMs: 400, maxAttempts: 40 } }, sinks: () => [] });
  const calls = { failover: [] as string[], interrupted: 0 };
  const failover = registry.failover.bind(registry);
  registry.failover = (id, urls) => (calls.failover.push(urls), failover(id, urls));
  const interrupted = registry.interrupted.bind(registry);
  registry.interrupted = (e) => (calls.interrupted++, interrupted(e));
  const worker = new ClusterWorker({ cluster, registry, id: 'w1', maxStreams: 10, tickMs: 50 });
  await worker.start();
  cleanups.push(() => worker.stop());
  // The gateway: verify, then queue (JetStream de-duplicates Zoom's retries across gateways).
  const handle = createWebhookHandler({ secretToken: CREDS.secretToken, ledger: false });
  const queue = new WebhookQueue(cluster);
  const published: Promise<unknown>[] = [];
  const emulator = new Emulator({
    ...CREDS,
    scenario: demoScenario(4),
    faults: [fault],
    keepAliveIntervalMs: 200,
    onWebhook: (body) => {
      const raw = Buffer.from(JSON.stringify(body));
      const outcome = handle(raw, signWebhook(CREDS.secretToken, raw));
      if (outcome.event) published.push(queue.publish(outcome.event));
    },
  });
  await emulator.start();
  cleanups.push(() => emulator.close());
  const summary = await emulator.run();
  await Promise.all(published);
  const stream = emulator.streams[0];
  const entry = registry.get(stream.id.rtmsStreamId);
  const record = await cluster.streams.get(streamKey(stream.id.rtmsStreamId));
  return { summary, stream, entry, calls, record: JSON.parse(new TextDecoder().decode(record!.value)) as StreamRecord, emulator };
}

describe("cluster: the owner follows Zoom's failover announcements", { skip: natsUp ? false : `NATS not reachable at ${NATS_URL}` }, () => {
  it('restart: the new start with new server_urls reaches the owner, which moves its client there; nothing sent is lost', { timeout: 30_000 }, async () => {
    const { summary, entry, calls, record, emulator, stream } = await clusterRun('restart@1s:1s');
    assert.equal(summary.faults[0].client_recovered, true);
    const newUrl = emulator.startPayload(stream).server_urls as string;
    assert.match(newUrl, /\/s2\/signaling\//, 'the server came back as a new instance');
    assert.deepEqual(calls.failover, [newUrl], 'the owner moved its client to the new server once');
    assert.equal(record.payload.server_urls, newUrl, 'the stream record carries the new URL');
    assert.equal(entry?.client.stats.frames.audio, summary.sent.audio, 'every audio frame sent was received');
    assert.ok(summary.missed.audio > 0 && summary.missed.audio * 20 <= 2500, `outage ${summary.missed.audio * 20} ms`);
  });

  it('drop-signaling: rtms_interrupted reaches the owner; the client is back and nothing sent is lost', { timeout: 30_000 }, async () => {
    const { summary, entry, calls, record } = await clusterRun('drop-signaling@1s');
    assert.equal(summary.faults[0].client_recovered, true);
    assert.ok(calls.interrupted >= 1, 'the interruption was handed to the owner');
    assert.equal(typeof record.interruptedAt, 'number');
    assert.equal(entry?.client.stats.frames.audio, summary.sent.audio);
    assert.ok(summary.missed.audio * 20 <= 1500, `outage ${summary.missed.audio * 20} ms`);
  });
});
