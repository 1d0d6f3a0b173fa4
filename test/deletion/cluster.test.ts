/**
 * Deletion on a cluster gateway: the stream's record leaves the NATS KV streams bucket (so no gateway
 * lists it again) once it is stopped; a stream still active keeps its record.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterView, connectCluster, destroyCluster, streamKey, type StreamRecord } from '../../src/cluster/index.js';
import { encodeRecord } from '../../src/cluster/records.js';
import { reachable } from '../helpers/cluster-env.js';

const NATS_URL = process.env.OPENRTMS_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const natsUp = await reachable(NATS_URL);
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('ClusterView.forget', { skip: natsUp ? false : `NATS not reachable at ${NATS_URL}` }, () => {
  it('removes a stopped stream record from the cluster; an active one stays', { timeout: 20_000 }, async () => {
    const prefix = `del${Date.now().toString(36)}${process.pid}`;
    const cluster = await connectCluster({ url: NATS_URL, prefix, leaseTtlMs: 1000 });
    cleanups.push(() => destroyCluster(NATS_URL, prefix), () => cluster.close());
    const record = (id: string, state: 'active' | 'stopped'): StreamRecord => ({ rtmsStreamId: id, product: 'meeting', meetingUuid: `m-${id}`, event: 'meeting.rtms_started', payload: { rtms_stream_id: id } as StreamRecord['payload'], startedAt: 1, state });
    await cluster.streams.put(streamKey('gone/1=='), encodeRecord(record('gone/1==', 'stopped')));
    await cluster.streams.put(streamKey('busy'), encodeRecord(record('busy', 'active')));
    const view = new ClusterView(cluster);
    await view.start();
    cleanups.push(() => view.stop());
    assert.deepEqual(view.list().map((s) => s.rtmsStreamId).sort(), ['busy', 'gone/1==']);
    assert.equal(await view.forget('busy'), 0);
    assert.equal(await view.forget('gone/1=='), 1);
    assert.deepEqual(view.list().map((s) => s.rtmsStreamId), ['busy']);
    assert.equal(await cluster.streams.get(streamKey('gone/1==')).then((e) => (e && e.operation === 'PUT' ? 'present' : 'gone')), 'gone');
    assert.equal(await view.forget('gone/1=='), 0, 'twice is harmless');
  });
});
