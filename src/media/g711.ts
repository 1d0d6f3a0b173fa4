/**
 * ITU-T G.711 µ-law and A-law companding: 16-bit linear PCM ⇄ 8-bit codes, one per sample.
 * Decoding uses 256-entry tables; encoding uses the standard segment search.
 */

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

function mulawDecodeOne(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + MULAW_BIAS) << ((u & 0x70) >> 4);
  return u & 0x80 ? MULAW_BIAS - t : t - MULAW_BIAS;
}

function alawDecodeOne(code: number): number {
  const a = code ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  t = seg === 0 ? t + 8 : seg === 1 ? t + 0x108 : (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

/** µ-law code → linear sample. */
export const MULAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => mulawDecodeOne(i));
/** A-law code → linear sample. */
export const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => alawDecodeOne(i));

export function mulawEncodeSample(sample: number): number {
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  if (s > MULAW_CLIP) s = MULAW_CLIP;
  s += MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

export function alawEncodeSample(sample: number): number {
  let s = sample;
  let mask: number;
  if (s >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    s = -s - 1;
  }
  if (s > 32767) s = 32767;
  let seg = 0;
  for (let v = s >> 8; v > 0 && seg < 8; v >>= 1) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  const aval = (seg << 4) | ((seg < 2 ? s >> 4 : s >> (seg + 3)) & 0x0f);
  return aval ^ mask;
}

/** Encodes linear PCM to µ-law (law 'mulaw') or A-law codes. */
export function g711Encode(pcm: Int16Array, law: 'mulaw' | 'alaw' = 'mulaw'): Buffer {
  const out = Buffer.allocUnsafe(pcm.length);
  const enc = law === 'mulaw' ? mulawEncodeSample : alawEncodeSample;
  for (let i = 0; i < pcm.length; i++) out[i] = enc(pcm[i]);
  return out;
}

/** Decodes µ-law or A-law codes to linear PCM. */
export function g711Decode(codes: Uint8Array, law: 'mulaw' | 'alaw' = 'mulaw'): Int16Array {
  const table = law === 'mulaw' ? MULAW_TABLE : ALAW_TABLE;
  const out = new Int16Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = table[codes[i]];
  return out;
}
