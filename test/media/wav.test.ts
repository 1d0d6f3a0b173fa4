import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WavWriter, parseWav } from '../../src/media/wav.js';

describe('WavWriter staging buffer', () => {
  it('keeps every sample in order across overlapping flushes, silence and buffer growth; the caller may reuse its buffer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-wav-'));
    try {
      const w = new WavWriter(join(dir, 'a.wav'), 16000, 1);
      const expected: number[] = [];
      const frame = new Int16Array(320); // reused for every write, as a decoder's output may be
      let v = 1;
      const flushes: Promise<void>[] = [];
      for (let i = 0; i < 400; i++) {
        for (let j = 0; j < frame.length; j++) frame[j] = v = (v * 31 + 7) % 65536 - 32768;
        w.write(frame);
        expected.push(...frame);
        if (i % 37 === 0) {
          w.silence(1000);
          for (let k = 0; k < 1000; k++) expected.push(0);
        }
        if (i === 200) {
          // Three seconds at once: more than the staging buffer holds.
          const long = new Int16Array(48_000).map((_, k) => (k % 200) - 100);
          w.write(long);
          expected.push(...long);
        }
        // Flushes are not awaited: the next samples are staged while earlier chunks are being written.
        if (i % 25 === 24) flushes.push(w.flush());
      }
      await Promise.all(flushes);
      await w.close();
      const wav = parseWav(readFileSync(join(dir, 'a.wav')));
      assert.equal(wav.samples.length, expected.length);
      assert.equal(w.samples, expected.length);
      assert.deepEqual(Array.from(wav.samples), expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
