import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runEmulated } from '../helpers/harness.js';

// Short real-time runs: each fault fires 1 s in; clients use short tolerances and fast backoff.
const clientOpts = { keepAliveToleranceMs: { signaling: 800, media: 800 } };

describe('faults: the client recovers from each recoverable one', () => {
  for (const spec of ['drop-signaling@1s', 'drop-media@1s', 'stall@1s:3s', 'malformed@1s', 'restart@1s:1500ms']) {
    it(spec, async () => {
      const { summary, joined } = await runEmulated({ durationS: 5, faults: [spec], keepAliveIntervalMs: 200 }, clientOpts);
      const [j] = joined;
      const [fault] = summary.faults;
      assert.equal(fault.spec, spec);
      assert.equal(fault.expected_recovery, true);
      assert.equal(fault.client_recovered, true, `client recovered after ${spec}`);
      // A malformed, invalid or oversized frame is reported and skipped; the connection stays up.
      if (spec.startsWith('malformed')) assert.equal(j.client.stats.reconnects, 0);
      else if (spec.startsWith('drop-media')) {
        assert.equal(j.client.stats.reconnects, 0, 'signaling stayed up');
        assert.ok(j.client.stats.mediaReconnects >= 1, 'media re-opened');
      } else assert.ok(j.client.stats.reconnects >= 1, 'reconnected');
      const closed = await j.closed;
      assert.equal(closed.reason, 'stream-terminated', 'and stopped when the stream ended');
      // What was not delivered is accounted for: sent + missed = generated.
      assert.equal(summary.sent.audio + summary.missed.audio, 250);
      assert.equal(j.client.stats.frames.audio, summary.sent.audio, 'the client got every frame that was sent');
      if (spec.startsWith('malformed')) assert.equal(j.client.stats.protocolErrors, 2 * 2 + 1, 'bad JSON and bad msg_type on both sockets, one oversized frame');
    });
  }
});

describe('faults: terminal and webhook faults', () => {
  it('kick@1s: the client reports the takeover and does not retry', async () => {
    const { summary, joined } = await runEmulated({ durationS: 3, faults: ['kick@1s'], keepAliveIntervalMs: 200 }, clientOpts);
    const closed = await joined[0].closed;
    assert.equal(closed.reason, 'kicked');
    assert.equal(closed.error?.code, 'RTMS_KICKED');
    assert.equal(summary.connections.signaling, 1, 'no reconnect after a takeover');
    assert.equal(summary.connections.kicked, 1);
    assert.equal(summary.faults[0].client_recovered, false);
    assert.equal(summary.faults[0].expected_recovery, false);
    assert.ok(summary.missed.audio > 0);
  });

  it('duplicate-webhook:3: one connection per stream', async () => {
    const { summary, startWebhooks, joined } = await runEmulated({ durationS: 1, fast: true, meetings: 2, faults: ['duplicate-webhook:3'] });
    assert.equal(startWebhooks, 6);
    assert.equal(joined.length, 2);
    assert.equal(summary.connections.signaling, 2);
    assert.equal(summary.connections.kicked, 0);
    assert.equal(summary.webhooks.sent, 12);
  });

  it('webhook-delay:300: the client still joins and receives everything', async () => {
    const t0 = Date.now();
    const { summary, joined } = await runEmulated({ durationS: 1, fast: true, faults: ['webhook-delay:300'] });
    assert.ok(Date.now() - t0 >= 600, 'start and stop webhooks were delayed');
    assert.equal(joined[0].client.stats.frames.audio, 50);
    assert.equal(summary.missed.audio, 0);
  });

  it('out-of-order: a retried start after the stop is refused and reported as terminal', async () => {
    const { summary, joined } = await runEmulated({ durationS: 1, fast: true, faults: ['out-of-order'] }, {}, { naive: true });
    assert.equal(joined.length, 2, 'a naive receiver joined twice');
    const late = await joined[1].closed;
    assert.equal(late.reason, 'stream-terminated');
    assert.equal(late.error?.code, 'RTMS_STREAM_TERMINATED');
    assert.equal(summary.connections.rejected_finished, 1);
    assert.equal(summary.connections.signaling, 1);
  });

  it('out-of-order with a receiver that remembers finished streams: no second connection', async () => {
    const { summary, joined } = await runEmulated({ durationS: 1, fast: true, faults: ['out-of-order'] });
    assert.equal(joined.length, 1);
    assert.equal(summary.connections.rejected_finished, 0);
  });
});
