// Serial (runs alone after the parallel phase): about 65 s of wall clock.
/**
 * The figure: the receiver is down for 60 s while a meeting runs and ends. Nothing is lost,
 * the ids dedupe to exactly the meeting's events, the recording misses no frame, and once the
 * receiver is back the queue drains within the (configured, 5 s) longest backoff.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Receiver } from './receiver.js';
import { checkMeeting, cleanups, meeting, serveWith } from './meeting.js';

after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('a receiver down for 60 s', () => {
  it('loses nothing and does not slow ingestion', async () => {
    const rx = new Receiver('outage-hook-secret');
    await rx.listen();
    cleanups.push(() => rx.close());
    const { runtime, url, dataDir } = await serveWith(rx, { initialBackoffMs: 500, maxBackoffMs: 5000, pollMs: 100 });
    rx.behaviour = 'down';
    const downAt = Date.now();
    const { summary, id } = await meeting(url, 12);
    assert.equal(summary.missed.audio, 0, 'ingestion did not miss a frame');
    const status = runtime.registry.list().find((s) => s.rtmsStreamId === id)!;
    assert.equal(status.frames.audio, summary.sent.audio);
    // Still down: everything is waiting in the outbox.
    await new Promise((r) => setTimeout(r, 1000));
    const queued = runtime.delivery.list()[0].stats;
    assert.equal(rx.accepted.length, 0);
    assert.ok(queued.queued > 20, `queued ${queued.queued}`);
    assert.ok(queued.lagMs > 10_000);
    await new Promise((r) => setTimeout(r, Math.max(0, downAt + 60_000 - Date.now())));
    rx.behaviour = 'ok';
    const upAt = Date.now();
    await checkMeeting(rx, runtime, dataDir, id, 10_000);
    const drainedMs = Date.now() - upAt;
    assert.ok(drainedMs < 8000, `drained in ${drainedMs} ms`);
    assert.equal(rx.accepted.length, rx.ids().size, 'a dropped connection is never delivered: no duplicates at all');
    assert.equal(runtime.delivery.list()[0].stats.queued, 0);
  });
});
