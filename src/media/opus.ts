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

/** Decodes Opus packets to interleaved 16-bit PCM. */
export class OpusDecoder {
  #codec;
  constructor(readonly sampleRate: number, readonly channels: number) {
    checkRate(sampleRate);
    this.#codec = new OpusScript(sampleRate, channels, OpusScript.Application.AUDIO);
  }
  decode(data: Uint8Array): Int16Array {
    const out = this.#codec.decode(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    const copy = new Int16Array(out.length >> 1);
    for (let i = 0; i < copy.length; i++) copy[i] = out.readInt16LE(i * 2);
    return copy;
  }
  destroy(): void {
    this.#codec.delete();
  }
}
