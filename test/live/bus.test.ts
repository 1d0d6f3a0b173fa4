import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LiveBus, toJson } from '../../src/live/bus.js';
import type { LiveMessage } from '../../src/live/types.js';

const line = (streamId: string, i: number): LiveMessage => ({ type: 'transcript', streamId, source: 'zoom', userId: '1', userName: 'Ann', text: `line ${i}`, timestamp: i });
const turn = () => new Promise((r) => setImmediate(r));

describe('LiveBus', () => {
  it('delivers in order, in batches, on a later turn', async () => {
    const bus = new LiveBus();
    const got: string[] = [];
    let batches = 0;
    bus.subscribe({ deliver: (b) => (batches++, got.push(...b.map((m) => (m as { text: string }).text))) });
    for (let i = 0; i < 5; i++) bus.publish(line('s', i));
    assert.deepEqual(got, [], 'publish never calls a subscriber synchronously');
    await turn();
    assert.deepEqual(got, ['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    assert.equal(batches, 1);
    assert.equal(bus.stats.delivered, 5);
  });

  it('a slow (paused) subscriber neither blocks the publisher nor the others; its drops are counted', async () => {
    const bus = new LiveBus();
    const fast: LiveMessage[] = [];
    const slow: LiveMessage[] = [];
    bus.subscribe({ deliver: (b) => fast.push(...b) });
    const s = bus.subscribe({ maxQueue: 10, deliver: (b) => slow.push(...b) });
    s.pause();
    let ms = 0;
    for (let burst = 0; burst < 100; burst++) {
      const t0 = performance.now();
      for (let i = 0; i < 1000; i++) bus.publish(line('s', burst * 1000 + i));
      ms += performance.now() - t0;
      await turn(); // the fast subscriber drains between bursts; the slow one never does
    }
    assert.ok(ms < 1000, `100k publishes took ${ms.toFixed(0)} ms`);
    assert.equal(fast.length, 100_000);
    assert.equal(slow.length, 0);
    assert.equal(s.queued, 10, 'the slow queue stays bounded');
    assert.equal(s.dropped, 99_990);
    assert.equal(bus.stats.dropped, 99_990);
    s.resume();
    await turn();
    assert.equal(slow[0].type, 'lagged');
    assert.equal((slow[0] as { dropped: number }).dropped, 99_990);
    assert.deepEqual(slow.slice(1).map((m) => (m as { text: string }).text), Array.from({ length: 10 }, (_, i) => `line ${99_990 + i}`), 'the newest messages are kept');
  });

  it('the disconnect policy closes a subscriber that falls behind and counts it', async () => {
    const bus = new LiveBus();
    let reason = '';
    const s = bus.subscribe({ maxQueue: 3, onLag: 'disconnect', deliver: () => {}, onClose: (r) => (reason = r) });
    s.pause();
    for (let i = 0; i < 5; i++) bus.publish(line('s', i));
    assert.equal(s.closed, true);
    assert.equal(reason, 'lagged');
    assert.equal(bus.stats.disconnected, 1);
    assert.equal(bus.stats.subscribers, 0);
  });

  it('filters by stream (stream notices go to everyone) and by type; can switch streams', async () => {
    const bus = new LiveBus();
    const a: LiveMessage[] = [];
    const t: LiveMessage[] = [];
    const sub = bus.subscribe({ streamId: 'A', deliver: (b) => a.push(...b) });
    bus.subscribe({ types: ['chat'], deliver: (b) => t.push(...b) });
    bus.publish(line('A', 1));
    bus.publish(line('B', 2));
    bus.publish({ type: 'chat', operation: 'new', streamId: 'B', userId: '2', userName: 'Bo', text: 'hi', timestamp: 3 });
    bus.publish({ type: 'stream', streamId: 'C', action: 'started', meetingUuid: 'm', product: 'meeting', startedAt: 0, timestamp: 4 });
    await turn();
    assert.deepEqual(a.map((m) => `${m.type}:${m.streamId}`), ['transcript:A', 'stream:C']);
    assert.deepEqual(t.map((m) => `${m.type}:${m.streamId}`), ['chat:B']);
    sub.setStream('B');
    bus.publish(line('A', 5));
    bus.publish(line('B', 6));
    await turn();
    assert.deepEqual(a.slice(2).map((m) => m.streamId), ['B']);
  });

  it('async iteration (pull mode) ends when the subscription closes', async () => {
    const bus = new LiveBus();
    const sub = bus.subscribe({ streamId: 'X' });
    setTimeout(() => {
      bus.publish(line('X', 1));
      bus.publish(line('X', 2));
      setTimeout(() => sub.close(), 5);
    }, 5);
    const seen: number[] = [];
    for await (const m of sub) seen.push(m.timestamp);
    assert.deepEqual(seen, [1, 2]);
  });

  it('close() ends every subscriber and ignores later publishes; toJson serialises once', () => {
    const bus = new LiveBus();
    const s = bus.subscribe();
    bus.close();
    bus.close();
    assert.equal(s.closed, true);
    bus.publish(line('s', 1));
    assert.equal(bus.stats.published, 0);
    const m = line('s', 9);
    assert.equal(toJson(m), JSON.stringify(m));
    assert.equal(toJson(m), toJson(m));
  });
});
