/**
 * SttChannel without a network: a scripted adapter shows the bounded buffer (drops counted only for
 * audio never sent), the mapping of result times to the stream's clock across gaps, and the resend
 * of unconfirmed audio after an unexpected close.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SttChannel, type ChannelResult } from '../../../src/intelligence/stt/channel.js';
import type { SttAdapter, SttConnection, SttHandlers } from '../../../src/intelligence/stt/types.js';

const RATE = 16000;
const frame = (value = 1000) => new Int16Array(320).fill(value); // 20 ms

/** An adapter whose connections record what they got; the test drives results and closes. */
function scripted(opts: { refuse?: () => boolean } = {}) {
  const conns: { sent: Buffer[]; handlers: SttHandlers; finished: boolean; closed: boolean }[] = [];
  const adapter: SttAdapter = {
    provider: 'scripted',
    sampleRate: RATE,
    async open(_o, handlers) {
      if (opts.refuse?.()) throw new Error('refused');
      const c = { sent: [] as Buffer[], handlers, finished: false, closed: false };
      conns.push(c);
      const conn: SttConnection = {
        send: (pcm) => c.sent.push(pcm),
        finish: async () => {
          c.finished = true;
          handlers.onClose({ expected: true });
        },
        close: () => void (c.closed = true),
      };
      return conn;
    },
  };
  return { adapter, conns };
}

const ms = (bufs: Buffer[]) => bufs.reduce((n, b) => n + b.length / 2 / (RATE / 1000), 0);
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('SttChannel', () => {
  it('sends 100 ms messages; result times map to the stream clock through gaps in the audio', async () => {
    const { adapter, conns } = scripted();
    const results: ChannelResult[] = [];
    const ch = new SttChannel({ adapter, open: { diarize: false, label: 's/1' }, bufferMs: 30_000, onResult: (r) => results.push(r) });
    // 200 ms of audio from t=1000, then silence (no frames) until t=5000, then 200 ms more.
    for (let i = 0; i < 10; i++) ch.push(frame(), 1000 + i * 20);
    await tick();
    for (let i = 0; i < 13; i++) ch.push(frame(), 5000 + i * 20);
    assert.equal(conns.length, 1);
    assert.deepEqual(conns[0].sent.map((b) => b.length / 32), [100, 100, 100, 100]);
    // The provider's timeline has no gap: its 250 ms is 50 ms into the second burst.
    conns[0].handlers.onResult({ text: 'x', final: true, startMs: 50, endMs: 250 });
    assert.equal(results[0].toStreamMs(50), 1050);
    assert.equal(results[0].toStreamMs(250), 5050);
    await ch.finish();
    assert.ok(conns[0].finished);
    assert.deepEqual(conns[0].sent.map((b) => b.length / 32), [100, 100, 100, 100, 60], 'the last partial chunk flushed at finish');
  });

  it('an unexpected close: unconfirmed audio and what arrived meanwhile go on the next connection, nothing lost', async () => {
    const { adapter, conns } = scripted();
    const ch = new SttChannel({ adapter, open: { diarize: false, label: 's/1' }, bufferMs: 30_000, backoffMs: 10, onResult: () => {} });
    for (let i = 0; i < 20; i++) ch.push(frame(), i * 20); // 400 ms
    await tick();
    conns[0].handlers.onResult({ text: 'a', final: true, startMs: 0, endMs: 200 }); // confirms the first 200 ms
    conns[0].handlers.onClose({ expected: false, reason: 'network' });
    for (let i = 20; i < 40; i++) ch.push(frame(), i * 20); // 400 ms while down
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(conns.length, 2);
    assert.equal(ms(conns[1].sent), 600, '200 ms unconfirmed + 400 ms held');
    assert.equal(ch.stats.reconnects, 1);
    assert.equal(ch.stats.resentMs, 200);
    assert.equal(ch.stats.droppedMs, 0);
    await ch.finish();
  });

  it('the buffer is bounded: while the provider is unreachable the oldest unsent audio is dropped and counted', async () => {
    let down = true;
    const { adapter, conns } = scripted({ refuse: () => down });
    const ch = new SttChannel({ adapter, open: { diarize: false, label: 's/1' }, bufferMs: 1000, backoffMs: 5, maxBackoffMs: 20, finishTimeoutMs: 500, onResult: () => {} });
    for (let i = 0; i < 150; i++) ch.push(frame(), i * 20); // 3 s
    await tick();
    assert.ok(ch.heldMs <= 1000, `holds ${ch.heldMs} ms`);
    assert.equal(ch.stats.droppedMs, 2000);
    down = false;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(ms(conns[0].sent), 1000, 'the newest second is delivered');
    await ch.finish();
    assert.equal(ch.stats.failedConnects > 0, true);
  });
});
