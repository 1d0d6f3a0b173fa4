/**
 * A stream that ends while nobody holds it (its worker was killed, the stop webhook came before a
 * takeover) still gets a closed recording: against the real NATS JetStream, one ClusterWorker finds
 * the stopped, unowned stream and closes what the dead worker left open (recording and store row);
 * a stream its owner closed itself is only checked.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterWorker, closeOrphanedStream, connectCluster, destroyCluster, streamKey, type StreamRecord } from '../../src/cluster/index.js';
import type { StreamInfo } from '../../src/pipeline/types.js';
import { Recorder } from '../../src/recorder/index.js';
import { openStore } from '../../src/store/open.js';
import { StreamRegistry } from '../../src/sessions/registry.js';
import { reachable } from '../helpers/cluster-env.js';

const NATS_URL = process.env.OPENRTMS_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const natsUp = await reachable(NATS_URL);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const f of cleanups.reverse()) await Promise.resolve(f()).catch(() => {});
});

const frame = (value: number) => Buffer.from(new Int16Array(320).fill(value).buffer);

async function record(dataDir: string, info: StreamInfo, close: boolean): Promise<void> {
  const r = new Recorder({ dataDir, info, flushMs: 100 });
  r.onJoined({ audio: { codec: 1, sample_rate: 1, channel: 1, data_opt: 1 } } as never);
  for (let i = 0; i < 50; i++) r.onAudio({ userId: 0, userName: '', data: frame(i + 1), timestamp: info.startedAt + i * 20, receivedAt: 0 });
  r.onTranscript({ userId: 7, userName: 'Ada', text: `spoken in ${info.rtmsStreamId}`, timestamp: info.startedAt + 900, startTime: info.startedAt, endTime: info.startedAt + 900 } as never);
  if (close) await r.close();
  else await sleep(400); // on disk, never closed: the worker "died"
}

describe('cluster: recordings of streams that ended while nobody held them', { skip: natsUp ? false : `NATS not reachable at ${NATS_URL}` }, () => {
  it('one worker closes the recording the dead owner left open, and only checks one closed normally', { timeout: 30_000 }, async () => {
    const prefix = `fin${process.pid}x${Date.now() % 1e6}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-finalize-cluster-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const cluster = await connectCluster({ url: NATS_URL, prefix, leaseTtlMs: 1000 });
    cleanups.push(() => destroyCluster(NATS_URL, prefix));
    cleanups.push(() => cluster.close());

    const t0 = Date.now() - 60_000;
    const orphan: StreamInfo = { rtmsStreamId: 'orphan==', product: 'meeting', meetingUuid: 'm-orphan', startedAt: t0 };
    const tidy: StreamInfo = { rtmsStreamId: 'tidy==', product: 'meeting', meetingUuid: 'm-tidy', startedAt: t0 };
    await record(dataDir, orphan, false);
    await record(dataDir, tidy, true);
    const store = await openStore({ dataDir, databaseUrl: null });
    cleanups.push(() => store.close());
    await store.upsertStream({ ...orphan, state: 'active' }); // its owner died: never marked stopped
    await store.upsertStream({ ...tidy, state: 'active' });
    await store.markStopped(tidy.rtmsStreamId, { stoppedAt: t0 + 1000, closeReason: 'stream-terminated' });
    const stoppedAt = Date.now() - 5000;
    for (const info of [orphan, tidy]) {
      const r: StreamRecord = { ...info, event: 'meeting.rtms_started', payload: { meeting_uuid: info.meetingUuid, rtms_stream_id: info.rtmsStreamId, server_urls: 'ws://127.0.0.1:9' }, state: 'stopped', stoppedAt, stopCause: 'stop webhook' };
      await cluster.streams.put(streamKey(info.rtmsStreamId), Buffer.from(JSON.stringify(r)));
    }

    const registry = new StreamRegistry({ client: { clientId: 'c', clientSecret: 's' }, sinks: () => [] });
    const worker = new ClusterWorker({
      cluster,
      registry,
      id: 'w1',
      maxStreams: 10,
      tickMs: 100,
      finalizeRecording: closeOrphanedStream(dataDir, store),
    });
    const seen = new Map<string, boolean>();
    worker.on('finalized', (e) => seen.set(e.rtmsStreamId, e.closed));
    await worker.start();
    cleanups.push(() => worker.stop());
    const deadline = Date.now() + 15_000;
    while (seen.size < 2 && Date.now() < deadline) await sleep(50);
    assert.deepEqual(Object.fromEntries(seen), { 'orphan==': true, 'tidy==': false }, 'the orphan closed, the tidy one only checked');

    const manifest = JSON.parse(readFileSync(join(dataDir, 'recordings', 'orphan%3D%3D', 'manifest.json'), 'utf8'));
    assert.equal(manifest.complete, true);
    assert.equal(manifest.stopped_at, new Date(stoppedAt).toISOString());
    assert.match(readFileSync(join(dataDir, 'recordings', 'orphan%3D%3D', 'transcript.vtt'), 'utf8'), /spoken in orphan==/);
    for (const info of [orphan, tidy]) {
      const entry = await cluster.streams.get(streamKey(info.rtmsStreamId));
      assert.equal((JSON.parse(Buffer.from(entry!.value).toString()) as StreamRecord).finalized, true, `${info.rtmsStreamId} marked`);
      const lease = await cluster.leases.get(streamKey(info.rtmsStreamId));
      assert.ok(!lease || lease.operation !== 'PUT', 'the lease taken for it is released');
    }
    const orphanRow = await store.getStream(orphan.rtmsStreamId);
    assert.deepEqual([orphanRow?.state, orphanRow?.stoppedAt, orphanRow?.closeReason], ['stopped', stoppedAt, 'owner-lost']);
    const tidyRow = await store.getStream(tidy.rtmsStreamId);
    assert.deepEqual([tidyRow?.state, tidyRow?.stoppedAt, tidyRow?.closeReason], ['stopped', t0 + 1000, 'stream-terminated'], 'what the owner wrote is kept');
    // Marked: not done again.
    seen.clear();
    await sleep(1500);
    assert.equal(seen.size, 0);
  });
});
