/**
 * H.264 helpers for muxing RTMS video: Annex B NAL splitting, SPS dimensions, avcC decoder
 * configuration, and Annex B → length-prefixed (AVCC) access units.
 */

/** NAL units of an Annex B buffer (start codes removed). */
export function nalUnits(au: Uint8Array): Uint8Array[] {
  const units: Uint8Array[] = [];
  let start = -1;
  for (let i = 0; i + 2 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1) {
      if (start >= 0) units.push(trimZeros(au.subarray(start, i)));
      start = i + 3;
      i += 2;
    }
  }
  if (start >= 0) units.push(au.subarray(start));
  return units.filter((u) => u.length > 0);
}

function trimZeros(u: Uint8Array): Uint8Array {
  let end = u.length;
  while (end > 0 && u[end - 1] === 0) end--;
  return u.subarray(0, end);
}

export const nalType = (u: Uint8Array): number => u[0] & 0x1f;

/** Exp-Golomb bit reader over an RBSP (emulation-prevention bytes removed). */
class Bits {
  #pos = 0;
  constructor(private readonly data: Uint8Array) {}
  bit(): number {
    const b = (this.data[this.#pos >> 3] >> (7 - (this.#pos & 7))) & 1;
    this.#pos++;
    return b;
  }
  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0 && zeros < 32) zeros++;
    return 2 ** zeros - 1 + this.bits(zeros);
  }
  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }
}

function rbsp(nal: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < nal.length; i++) {
    if (i >= 2 && nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) continue;
    out.push(nal[i]);
  }
  return Uint8Array.from(out);
}

/** Width and height coded in a sequence parameter set (cropping applied). */
export function spsDimensions(sps: Uint8Array): { width: number; height: number; profile: number; level: number } {
  const r = new Bits(rbsp(sps.subarray(1)));
  const profile = r.bits(8);
  r.bits(8);
  const level = r.bits(8);
  r.ue();
  let chroma = 1;
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profile)) {
    chroma = r.ue();
    if (chroma === 3) r.bit();
    r.ue();
    r.ue();
    r.bit();
    if (r.bit()) {
      for (let i = 0; i < (chroma !== 3 ? 8 : 12); i++) {
        if (!r.bit()) continue;
        let last = 8;
        let next = 8;
        for (let j = 0; j < (i < 6 ? 16 : 64); j++) {
          if (next !== 0) next = (last + r.se() + 256) % 256;
          last = next === 0 ? last : next;
        }
      }
    }
  }
  r.ue();
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) {
    r.bit();
    r.se();
    r.se();
    const n = r.ue();
    for (let i = 0; i < n; i++) r.se();
  }
  r.ue();
  r.bit();
  const widthMbs = r.ue() + 1;
  const heightUnits = r.ue() + 1;
  const frameMbsOnly = r.bit();
  if (!frameMbsOnly) r.bit();
  r.bit();
  let [cl, cr, ct, cb] = [0, 0, 0, 0];
  if (r.bit()) [cl, cr, ct, cb] = [r.ue(), r.ue(), r.ue(), r.ue()];
  const cropX = chroma === 0 ? 1 : 2;
  const cropY = (chroma === 1 ? 2 : 1) * (2 - frameMbsOnly);
  return {
    width: widthMbs * 16 - (cl + cr) * cropX,
    height: (2 - frameMbsOnly) * heightUnits * 16 - (ct + cb) * cropY,
    profile,
    level,
  };
}

/** The avcC box payload (AVCDecoderConfigurationRecord) for one SPS and PPS. */
export function avcC(sps: Uint8Array, pps: Uint8Array): Uint8Array {
  const out = new Uint8Array(11 + sps.length + pps.length);
  out.set([1, sps[1], sps[2], sps[3], 0xff, 0xe1, sps.length >> 8, sps.length & 0xff]);
  out.set(sps, 8);
  const o = 8 + sps.length;
  out.set([1, pps.length >> 8, pps.length & 0xff], o);
  out.set(pps, o + 3);
  return out;
}

/** codec string such as `avc1.42C01E` from an SPS. */
export function avcCodecString(sps: Uint8Array): string {
  return `avc1.${[sps[1], sps[2], sps[3]].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join('')}`;
}

/** Access unit in AVCC form (4-byte lengths), without AUD/SPS/PPS, which live in avcC. */
export function toAvcc(units: Uint8Array[]): Uint8Array {
  const keep = units.filter((u) => ![7, 8, 9].includes(nalType(u)));
  const out = new Uint8Array(keep.reduce((n, u) => n + 4 + u.length, 0));
  let o = 0;
  for (const u of keep) {
    new DataView(out.buffer).setUint32(o, u.length);
    out.set(u, o + 4);
    o += 4 + u.length;
  }
  return out;
}
