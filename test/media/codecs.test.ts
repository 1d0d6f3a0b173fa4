import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ALAW_TABLE, MULAW_TABLE, alawEncodeSample, g711Decode, g711Encode, mulawEncodeSample } from '../../src/media/g711.js';
import { G722Decoder, G722Encoder } from '../../src/media/g722.js';
import { createAudioDecoder, createAudioEncoder } from '../../src/media/codec.js';
import { bytesToPcm, monoToStereo, resample, stereoToMono } from '../../src/media/l16.js';
import { loadSpeech } from '../../src/media/assets.js';
import { Codec } from '../../src/protocol/index.js';

function snrAtBestLag(ref: Int16Array, out: Int16Array, maxLag = 64): { snr: number; lag: number } {
  let best = { snr: -Infinity, lag: 0 };
  for (let lag = 0; lag < maxLag; lag++) {
    let s = 0;
    let n = 0;
    for (let i = 0; i + lag < out.length && i < ref.length; i++) {
      s += ref[i] ** 2;
      n += (out[i + lag] - ref[i]) ** 2;
    }
    const snr = 10 * Math.log10(s / Math.max(n, 1));
    if (snr > best.snr) best = { snr, lag };
  }
  return best;
}

describe('G.711', () => {
  it('decodes the ITU reference points', () => {
    assert.equal(MULAW_TABLE[0xff], 0);
    assert.equal(MULAW_TABLE[0x00], -32124);
    assert.equal(MULAW_TABLE[0x80], 32124);
    assert.equal(ALAW_TABLE[0xd5], 8);
    assert.equal(ALAW_TABLE[0x55], -8);
    assert.equal(ALAW_TABLE[0xaa], 32256);
  });
  it('every code survives decode → encode', () => {
    for (let c = 0; c < 256; c++) {
      if (c !== 0x7f) assert.equal(mulawEncodeSample(MULAW_TABLE[c]), c, `µ-law ${c}`);
      assert.equal(alawEncodeSample(ALAW_TABLE[c]), c, `A-law ${c}`);
    }
  });
  it('round-trip error stays within the companding step (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 1, maxLength: 200 }), (xs) => {
        const pcm = Int16Array.from(xs);
        for (const law of ['mulaw', 'alaw'] as const) {
          const back = g711Decode(g711Encode(pcm, law), law);
          for (let i = 0; i < pcm.length; i++) assert.ok(Math.abs(back[i] - pcm[i]) <= Math.max(16, Math.abs(pcm[i]) / 16 + 64), `${law} ${pcm[i]} → ${back[i]}`);
        }
      }),
    );
  });
});

describe('G.722 (64 kbit/s)', () => {
  it('speech survives encode → decode with > 20 dB SNR at the codec delay', () => {
    const speech = loadSpeech().pcm.subarray(0, 48_000);
    const out = new G722Decoder().decode(new G722Encoder().encode(speech));
    const { snr, lag } = snrAtBestLag(speech, out);
    assert.ok(snr > 20, `SNR ${snr.toFixed(1)} dB`);
    assert.equal(lag, 22, 'the QMF pair delays by 22 samples');
  });
  it('20 ms of 16 kHz is 160 bytes, and state carries across frames', () => {
    const speech = loadSpeech().pcm.subarray(16_000, 16_640);
    const whole = new G722Encoder().encode(speech);
    const enc = new G722Encoder();
    const parts = Buffer.concat([enc.encode(speech.subarray(0, 320)), enc.encode(speech.subarray(320))]);
    assert.equal(whole.length, 320);
    assert.deepEqual(parts, whole);
  });
  it('silence stays near silent', () => {
    const out = new G722Decoder().decode(new G722Encoder().encode(new Int16Array(3200)));
    assert.ok(out.every((s) => Math.abs(s) < 64));
  });
});

describe('codec factory and L16 helpers', () => {
  it('every decoder survives random bytes', () => {
    const decoders = [createAudioDecoder(Codec.L16, 16000, 1), createAudioDecoder(Codec.G711, 8000, 1), createAudioDecoder(Codec.G722, 16000, 1), createAudioDecoder(Codec.OPUS, 48000, 2)];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        for (const d of decoders) {
          try {
            d.decode(bytes);
          } catch (err) {
            assert.ok(err instanceof Error); // Opus may reject a corrupt packet with an Error, never crash
          }
        }
      }),
      { numRuns: 300 },
    );
  });
  it('Opus: over-long or malformed packets are refused before they reach libopus (which would overflow its buffer)', () => {
    const d = createAudioDecoder(Codec.OPUS, 48000, 1);
    assert.throws(() => d.decode(Uint8Array.from([0x1b, 0x03, 0, 0, 0])), /invalid Opus packet/, '3 × 60 ms');
    assert.throws(() => d.decode(new Uint8Array(0)), /invalid Opus packet/);
    const fresh = createAudioEncoder(Codec.OPUS, 48000, 1);
    assert.equal(d.decode(fresh.encode(new Int16Array(960))).length, 960, 'the decoder still works');
  });
  it('rejects unsupported combinations with a clear error', () => {
    assert.throws(() => createAudioEncoder(Codec.G722, 48000, 1), /G\.722 is 16 kHz mono only/);
    assert.throws(() => createAudioEncoder(Codec.OPUS, 44100, 1), /Opus does not support 44100 Hz/);
    assert.throws(() => createAudioEncoder(9, 16000, 1), /not one of L16/);
  });
  it('Opus round trip keeps the signal\'s energy', () => {
    const enc = createAudioEncoder(Codec.OPUS, 48000, 1);
    const dec = createAudioDecoder(Codec.OPUS, 48000, 1);
    let inE = 0;
    let outE = 0;
    for (let f = 0; f < 20; f++) {
      const pcm = Int16Array.from({ length: 960 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * (f * 960 + i)) / 48000)));
      const out = dec.decode(enc.encode(pcm));
      assert.equal(out.length, 960);
      if (f > 4) for (let i = 0; i < 960; i++) (inE += pcm[i] ** 2), (outE += out[i] ** 2);
    }
    assert.ok(outE / inE > 0.5 && outE / inE < 2, `energy ratio ${(outE / inE).toFixed(2)}`);
  });
  it('L16 helpers: aligned views, channels, resampling lengths', () => {
    assert.deepEqual(Array.from(bytesToPcm(Buffer.from([1, 0, 0xff, 0xff]))), [1, -1]);
    assert.deepEqual(Array.from(stereoToMono(monoToStereo(Int16Array.from([5, -7])))), [5, -7]);
    assert.equal(resample(new Int16Array(320), 16000, 48000).length, 960);
    assert.equal(resample(new Int16Array(320), 16000, 8000).length, 160);
  });
});
