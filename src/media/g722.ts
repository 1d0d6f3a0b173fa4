/**
 * ITU-T G.722 at 64 kbit/s (mode 1): 16 kHz 16-bit mono PCM ⇄ one byte per two samples.
 * Sub-band ADPCM: a 24-tap QMF splits the signal into a low band (6-bit ADPCM) and a high band
 * (2-bit ADPCM). Written from the Recommendation's block diagrams (blocks 1L–6H, QMF).
 */

const QMF = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];
const Q6 = [0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0];
const ILN = [0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0];
const ILP = [0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0];
const WL = [-60, -30, 58, 172, 334, 538, 1198, 3042];
const RL42 = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
const ILB = [2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008];
const QM4 = [0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0];
const QM2 = [-7408, -1616, 7408, 1616];
const QM6 = [
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464,
  -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192,
  6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
const IHN = [0, 1, 0];
const IHP = [0, 3, 2];
const WH = [0, -214, 798];
const RH2 = [2, 1, 2, 1];

const sat = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);

/** Adaptive predictor state of one sub-band. */
class Band {
  s = 0;
  sp = 0;
  sz = 0;
  r = [0, 0, 0];
  a = [0, 0, 0];
  ap = [0, 0, 0];
  p = [0, 0, 0];
  d = [0, 0, 0, 0, 0, 0, 0];
  b = [0, 0, 0, 0, 0, 0, 0];
  bp = [0, 0, 0, 0, 0, 0, 0];
  sg = [0, 0, 0, 0, 0, 0, 0];
  nb = 0;
  constructor(public det: number) {}

  /** Block 4: reconstruction, pole/zero predictor adaptation and the next prediction. */
  update(dx: number): void {
    const { d, r, p, a, ap, b, bp, sg } = this;
    d[0] = dx;
    r[0] = sat(this.s + dx);
    p[0] = sat(this.sz + dx);
    // UPPOL2
    for (let i = 0; i < 3; i++) sg[i] = p[i] >> 15;
    let wd1 = sat(a[1] * 4);
    let wd2 = sg[0] === sg[1] ? -wd1 : wd1;
    if (wd2 > 32767) wd2 = 32767;
    let wd3 = (sg[0] === sg[2] ? 128 : -128) + (wd2 >> 7) + ((a[2] * 32512) >> 15);
    ap[2] = wd3 > 12288 ? 12288 : wd3 < -12288 ? -12288 : wd3;
    // UPPOL1
    sg[0] = p[0] >> 15;
    sg[1] = p[1] >> 15;
    wd1 = sg[0] === sg[1] ? 192 : -192;
    wd2 = (a[1] * 32640) >> 15;
    ap[1] = sat(wd1 + wd2);
    wd3 = sat(15360 - ap[2]);
    if (ap[1] > wd3) ap[1] = wd3;
    else if (ap[1] < -wd3) ap[1] = -wd3;
    // UPZERO
    wd1 = dx === 0 ? 0 : 128;
    sg[0] = dx >> 15;
    for (let i = 1; i < 7; i++) {
      sg[i] = d[i] >> 15;
      wd2 = sg[i] === sg[0] ? wd1 : -wd1;
      bp[i] = sat(wd2 + ((b[i] * 32640) >> 15));
    }
    // DELAYA
    for (let i = 6; i > 0; i--) {
      d[i] = d[i - 1];
      b[i] = bp[i];
    }
    for (let i = 2; i > 0; i--) {
      r[i] = r[i - 1];
      p[i] = p[i - 1];
      a[i] = ap[i];
    }
    // FILTEP, FILTEZ, PREDIC
    this.sp = sat(((a[1] * sat(r[1] + r[1])) >> 15) + ((a[2] * sat(r[2] + r[2])) >> 15));
    let sz = 0;
    for (let i = 6; i > 0; i--) sz += (b[i] * sat(d[i] + d[i])) >> 15;
    this.sz = sat(sz);
    this.s = sat(this.sp + this.sz);
  }

  /** Blocks 3L/3H: log scale factor adaptation. */
  scale(wd: number, limit: number, shift: number): void {
    let nb = ((this.nb * 127) >> 7) + wd;
    nb = nb < 0 ? 0 : nb > limit ? limit : nb;
    this.nb = nb;
    const wd1 = (nb >> 6) & 31;
    const wd2 = shift - (nb >> 11);
    this.det = (wd2 < 0 ? ILB[wd1] << -wd2 : ILB[wd1] >> wd2) << 2;
  }
}

/** Stateful G.722 encoder: 320 samples (20 ms) → 160 bytes. Feed even-length buffers. */
export class G722Encoder {
  #x = new Int32Array(24);
  #low = new Band(32);
  #high = new Band(8);

  encode(pcm: Int16Array): Buffer {
    const out = Buffer.allocUnsafe(pcm.length >> 1);
    const x = this.#x;
    const low = this.#low;
    const high = this.#high;
    for (let j = 0, n = 0; j + 1 < pcm.length; j += 2, n++) {
      x.copyWithin(0, 2);
      x[22] = pcm[j];
      x[23] = pcm[j + 1];
      let sumOdd = 0;
      let sumEven = 0;
      for (let i = 0; i < 12; i++) {
        sumOdd += x[2 * i] * QMF[i];
        sumEven += x[2 * i + 1] * QMF[11 - i];
      }
      const xlow = (sumEven + sumOdd) >> 14;
      const xhigh = (sumEven - sumOdd) >> 14;

      // Low band: SUBTRA, QUANTL, INVQAL, LOGSCL, SCALEL
      const el = sat(xlow - low.s);
      let wd = el >= 0 ? el : -(el + 1);
      let i = 1;
      for (; i < 30; i++) if (wd < (Q6[i] * low.det) >> 12) break;
      const ilow = el < 0 ? ILN[i] : ILP[i];
      const ril = ilow >> 2;
      const dlow = (low.det * QM4[ril]) >> 15;
      low.scale(WL[RL42[ril]], 18432, 8);
      low.update(dlow);

      // High band: SUBTRA, QUANTH, INVQAH, LOGSCH, SCALEH
      const eh = sat(xhigh - high.s);
      wd = eh >= 0 ? eh : -(eh + 1);
      const mih = wd >= (564 * high.det) >> 12 ? 2 : 1;
      const ihigh = eh < 0 ? IHN[mih] : IHP[mih];
      const dhigh = (high.det * QM2[ihigh]) >> 15;
      high.scale(WH[RH2[ihigh]], 22528, 10);
      high.update(dhigh);

      out[n] = (ihigh << 6) | ilow;
    }
    return out;
  }
}

/** Stateful G.722 decoder: each byte → two 16 kHz samples. */
export class G722Decoder {
  #x = new Int32Array(24);
  #low = new Band(32);
  #high = new Band(8);

  decode(data: Uint8Array): Int16Array {
    const out = new Int16Array(data.length * 2);
    const x = this.#x;
    const low = this.#low;
    const high = this.#high;
    for (let j = 0; j < data.length; j++) {
      const code = data[j];
      const ilow = code & 0x3f;
      const ihigh = (code >> 6) & 0x03;

      let rlow = low.s + ((low.det * QM6[ilow]) >> 15);
      rlow = rlow > 16383 ? 16383 : rlow < -16384 ? -16384 : rlow;
      const ril = ilow >> 2;
      const dlow = (low.det * QM4[ril]) >> 15;
      low.scale(WL[RL42[ril]], 18432, 8);
      low.update(dlow);

      const dhigh = (high.det * QM2[ihigh]) >> 15;
      let rhigh = dhigh + high.s;
      rhigh = rhigh > 16383 ? 16383 : rhigh < -16384 ? -16384 : rhigh;
      high.scale(WH[RH2[ihigh]], 22528, 10);
      high.update(dhigh);

      x.copyWithin(0, 2);
      x[22] = rlow + rhigh;
      x[23] = rlow - rhigh;
      let xout1 = 0;
      let xout2 = 0;
      for (let i = 0; i < 12; i++) {
        xout2 += x[2 * i] * QMF[i];
        xout1 += x[2 * i + 1] * QMF[11 - i];
      }
      out[2 * j] = sat(xout1 >> 11);
      out[2 * j + 1] = sat(xout2 >> 11);
    }
    return out;
  }
}
