/** Deterministic randomness for the emulator (`--seed`): mulberry32 and id helpers. */

export type Rng = () => number;

/** A fast 32-bit PRNG; the same seed gives the same sequence on every platform. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A meeting UUID shaped like Zoom's: 22 base64 characters and `==`, so it often holds '/' or '+'. */
export function meetingUuid(rng: Rng): string {
  let s = '';
  for (let i = 0; i < 22; i++) s += B64[Math.floor(rng() * 64)];
  return `${s}==`;
}

/** A 32-hex-digit id (rtms_stream_id, session ids, engagement ids). */
export function hexId(rng: Rng, length = 32): string {
  let s = '';
  for (let i = 0; i < length; i++) s += Math.floor(rng() * 16).toString(16);
  return s;
}
