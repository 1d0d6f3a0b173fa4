/** Opus through opusscript (libopus compiled to WebAssembly; installs from npm alone). */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
type OpusScriptCtor = new (rate: number, channels: number, application?: number) => {
  encode(pcm: Buffer, frameSize: number): Buffer;
  decode(data: Buffer): Buffer;
  delete(): void;
};
const OpusScript = require('opusscript') as OpusScriptCtor & { Application: { AUDIO: number; VOIP: number } };

const OPUS_RATES = new Set([8000, 12000, 16000, 24000, 48000]);

function checkRate(rate: number): void {
  if (!OPUS_RATES.has(rate)) throw new Error(`Opus does not support ${rate} Hz (use 8, 12, 16, 24 or 48 kHz)`);
}

/** Encodes frames of interleaved 16-bit PCM (2.5–60 ms each). */
export class OpusEncoder {
  #codec;
  constructor(readonly sampleRate: number, readonly channels: number) {
    checkRate(sampleRate);
    this.#codec = new OpusScript(sampleRate, channels, OpusScript.Application.AUDIO);
  }
  encode(pcm: Int16Array): Buffer {
    const frameSize = pcm.length / this.channels;
    return Buffer.from(this.#codec.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), frameSize));
  }
  destroy(): void {
    this.#codec.delete();
  }
}

/**
 * Samples per channel an Opus packet decodes to, from its TOC byte (RFC 6716 §3.1), or -1 when the
 * packet is malformed. Used to refuse packets longer than the decoder's 60 ms buffer: opusscript
 * writes past its heap buffer on such packets, so they must never reach it.
 */
export function opusPacketSamples(packet: Uint8Array, sampleRate: number): number {
  if (packet.length < 1 || packet.length > 1275 * 3) return -1;
  const toc = packet[0];
  const config = toc >> 3;
  const frameUs = config < 12 ? [10_000, 20_000, 40_000, 60_000][config & 3] : config < 16 ? [10_000, 20_000][config & 1] : [2_500, 5_000, 10_000, 20_000][config & 3];
  let frames: number;
  switch (toc & 3) {
    case 0:
      frames = 1;
      break;
    case 1:
    case 2:
      frames = 2;
      break;
    default:
      if (packet.length < 2) return -1;
      frames = packet[1] & 0x3f;
      if (frames === 0) return -1;
  }
  return (frames * frameUs * sampleRate) / 1_000_000;
}

/** Longest packet the decoder accepts: 60 ms (opusscript's output buffer). */
const MAX_DECODE_MS = 60;

/** Decodes Opus packets to interleaved 16-bit PCM; malformed or over-long packets throw, never crash. */
export class OpusDecoder {
  #codec;
  constructor(readonly sampleRate: number, readonly channels: number) {
    checkRate(sampleRate);
    this.#codec = new OpusScript(sampleRate, channels, OpusScript.Application.AUDIO);
  }
  decode(data: Uint8Array): Int16Array {
    const samples = opusPacketSamples(data, this.sampleRate);
    if (samples < 0 || samples > (this.sampleRate * MAX_DECODE_MS) / 1000) {
      throw new Error(`invalid Opus packet (${data.length} bytes${samples > 0 ? `, ${(samples * 1000) / this.sampleRate} ms` : ''})`);
    }
    const out = this.#codec.decode(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    const copy = new Int16Array(out.length >> 1);
    for (let i = 0; i < copy.length; i++) copy[i] = out.readInt16LE(i * 2);
    return copy;
  }
  destroy(): void {
    this.#codec.delete();
  }
}
