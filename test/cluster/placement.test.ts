import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { placeStreams, rankFor } from '../../src/cluster/placement.js';
import { clusterNames, streamIdOfKey, streamKey } from '../../src/cluster/names.js';
import { webhookIdentity } from '../../src/cluster/webhook-queue.js';

describe('cluster placement', () => {
  it('spreads simultaneous streams evenly over equal workers', () => {
    const streams = Array.from({ length: 12 }, (_, i) => `s${i}`);
    const plan = placeStreams(streams, ['a', 'b', 'c'].map((id) => ({ id, load: 0, maxStreams: 100 })));
    const per = new Map<string, number>();
    for (const w of plan.values()) per.set(w, (per.get(w) ?? 0) + 1);
    assert.deepEqual([...per.values()], [4, 4, 4]);
  });

  it('fills the least loaded worker first and never beyond its maximum', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ load: fc.nat(20), maxStreams: fc.integer({ min: 1, max: 25 }) }), { minLength: 1, maxLength: 6 }),
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 60 }),
        (ws, streams) => {
          const workers = ws.map((w, i) => ({ id: `w${i}`, ...w, load: Math.min(w.load, w.maxStreams) }));
          const plan = placeStreams(streams, workers);
          const room = workers.reduce((n, w) => n + (w.maxStreams - w.load), 0);
          assert.equal(plan.size, Math.min(room, streams.length), 'every stream placed while there is room');
          const after = new Map(workers.map((w) => [w.id, w.load]));
          for (const w of plan.values()) after.set(w, after.get(w)! + 1);
          for (const w of workers) assert.ok(after.get(w.id)! <= w.maxStreams, `${w.id} within its maximum`);
          // Greedy by load: a worker that received a stream never ends more than one above a worker with room left.
          const open = workers.filter((w) => after.get(w.id)! < w.maxStreams).map((w) => after.get(w.id)!);
          const minOpen = Math.min(...open);
          for (const w of workers) if (after.get(w.id)! > w.load) assert.ok(after.get(w.id)! <= minOpen + 1 || !open.length);
        },
      ),
    );
  });

  it('is the same on every worker (deterministic) and ranks every worker with room', () => {
    const workers = [
      { id: 'x', load: 3, maxStreams: 10 },
      { id: 'y', load: 1, maxStreams: 10 },
      { id: 'z', load: 10, maxStreams: 10 },
    ];
    assert.deepEqual([...placeStreams(['q', 'p'], workers)], [...placeStreams(['p', 'q'], [...workers].reverse())]);
    assert.equal(rankFor('p', workers, 'y'), 0);
    assert.equal(rankFor('p', workers, 'x'), 1);
    assert.equal(rankFor('p', workers, 'z'), -1, 'a full worker has no rank');
  });
});

describe('cluster names', () => {
  it('turns any stream id into a valid KV key and subject token, reversibly', () => {
    fc.assert(
      fc.property(fc.string(), (id) => {
        const key = streamKey(id);
        assert.match(key, /^[A-Za-z0-9_-]+$/);
        assert.equal(streamIdOfKey(key), id);
      }),
    );
  });
  it('refuses a cluster prefix that would break subjects', () => {
    assert.throws(() => clusterNames('a.b'), /letters, digits/);
    assert.equal(clusterNames('t1').liveSubject('k', 'transcript'), 't1.live.k.transcript');
  });
  it('names a webhook by event and stream (retries collapse), interruptions also by time', () => {
    const base = { product: 'meeting' as const, rtmsStreamId: 's', meetingUuid: 'm', payload: { rtms_stream_id: 's', meeting_uuid: 'm' } as never };
    assert.equal(webhookIdentity({ ...base, lifecycle: 'started', event: 'meeting.rtms_started', eventTs: 1 }), webhookIdentity({ ...base, lifecycle: 'started', event: 'meeting.rtms_started', eventTs: 2 }));
    assert.notEqual(webhookIdentity({ ...base, lifecycle: 'interrupted', event: 'meeting.rtms_interrupted', eventTs: 1 }), webhookIdentity({ ...base, lifecycle: 'interrupted', event: 'meeting.rtms_interrupted', eventTs: 2 }));
  });
});
