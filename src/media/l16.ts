/**
 * L16 helpers. RTMS sends L16 as little-endian signed 16-bit PCM, channels interleaved.
 */

/** Bytes → samples. Copies only when the buffer is not 2-byte aligned. */
export function bytesToPcm(data: Uint8Array): Int16Array {
  const usable = data.byteLength & ~1;
  if ((data.byteOffset & 1) === 0) return new Int16Array(data.buffer, data.byteOffset, usable >> 1);
  const copy = new Uint8Array(usable);
  copy.set(data.subarray(0, usable));
  return new Int16Array(copy.buffer);
}

/** Samples → bytes, sharing memory (little-endian hosts, i.e. every platform Node supports). */
export function pcmToBytes(pcm: Int16Array): Buffer {
  return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
}

/** Mono → interleaved stereo (both channels equal). */
export function monoToStereo(pcm: Int16Array): Int16Array {
  const out = new Int16Array(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) out[2 * i] = out[2 * i + 1] = pcm[i];
  return out;
}

/** Interleaved stereo → mono (average of the channels). */
export function stereoToMono(pcm: Int16Array): Int16Array {
  const out = new Int16Array(pcm.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = (pcm[2 * i] + pcm[2 * i + 1]) >> 1;
  return out;
}

/** Linear-interpolation resampler for mono PCM. Output length = round(len × to / from). */
export function resample(pcm: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return pcm;
  const outLen = Math.round((pcm.length * toRate) / fromRate);
  const out = new Int16Array(outLen);
  const step = fromRate / toRate;
  for (let i = 0; i < outLen; i++) {
    const pos = i * step;
    const j = Math.floor(pos);
    const frac = pos - j;
    const a = pcm[j] ?? 0;
    const b = pcm[j + 1] ?? a;
    out[i] = Math.round(a + (b - a) * frac);
  }
  return out;
}
