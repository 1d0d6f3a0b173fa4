import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runEmulated } from '../helpers/harness.js';
import { ID_FIELD, StopReason, PRODUCTS } from '../../src/protocol/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';

describe('client against emulator: every product family', () => {
  for (const product of PRODUCTS) {
    it(`${product}: joins, receives every frame sent, ends with the stream`, async () => {
      const { summary, joined } = await runEmulated({ product, durationS: 6, fast: true });
      assert.equal(joined.length, 1);
      const [j] = joined;
      const idField = ID_FIELD[product];
      assert.ok(typeof j.payload[idField] === 'string', `payload carries ${idField}`);
      if (product === 'webinar') assert.equal(j.payload.webinar_uuid, j.payload.meeting_uuid, 'webinars carry webinar_uuid too');
      const closed = await j.closed;
      assert.equal(closed.reason, 'stream-terminated');
      assert.equal(closed.stopReason, StopReason.STOP_BC_MEETING_ENDED);
      const stats = j.client.stats;
      assert.equal(stats.frames.audio, summary.sent.audio);
      assert.equal(summary.sent.audio, 300, '6 s of 20 ms frames');
      assert.equal(stats.frames.transcript, summary.sent.transcript);
      assert.equal(stats.frames.video, summary.sent.video);
      assert.deepEqual(summary.missed, { audio: 0, video: 0, share: 0, transcript: 0, chat: 0, events: 0 });
      assert.equal(summary.connections.signaling, 1);
      assert.equal(summary.connections.kicked, 0);
      if (product === 'contact_center' || product === 'phone') assert.equal(summary.sent.video, 0, 'voice only');
      else assert.ok(summary.sent.video > 0);
      const expected = demoScenario(6).timeline.filter((i) => i.type === 'speak').map((i) => i.text);
      assert.deepEqual(j.transcripts.map((t) => t.text), expected.slice(0, j.transcripts.length));
      assert.ok(j.transcripts.length >= 1);
    });
  }

  it('several concurrent streams of mixed products each connect exactly once', async () => {
    const { summary, joined } = await runEmulated({ product: [...PRODUCTS], meetings: 8, durationS: 2, fast: true, faults: ['duplicate-webhook:2'] });
    assert.equal(joined.length, 8);
    assert.equal(summary.connections.signaling, 8);
    assert.equal(summary.connections.kicked, 0);
    assert.equal(summary.webhooks.sent, 8 * 2 * 2);
    for (const j of joined) assert.equal((await j.closed).reason, 'stream-terminated');
  });

  it('real-time cadence: about 50 audio frames per second', async () => {
    const t0 = Date.now();
    const { summary } = await runEmulated({ durationS: 2 });
    const elapsed = Date.now() - t0;
    assert.equal(summary.sent.audio, 100);
    assert.ok(elapsed >= 1900 && elapsed < 4500, `2 s scenario took ${elapsed} ms`);
  });
});
