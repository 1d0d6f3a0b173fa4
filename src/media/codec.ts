/**
 * One entry point for every RTMS audio codec: `createAudioEncoder` / `createAudioDecoder` by the
 * MEDIA_PAYLOAD_TYPE number (L16 1, G711 2, G722 3, OPUS 4). PCM is interleaved 16-bit.
 */
import { Codec } from '../protocol/constants.js';
import { OpenRtmsError } from '../errors.js';
import { g711Decode, g711Encode } from './g711.js';
import { G722Decoder, G722Encoder } from './g722.js';
import { bytesToPcm } from './l16.js';
import { OpusDecoder, OpusEncoder } from './opus.js';

export interface AudioEncoder {
  encode(pcm: Int16Array): Buffer;
  destroy?(): void;
}
export interface AudioDecoder {
  decode(data: Uint8Array): Int16Array;
  destroy?(): void;
}
export interface CodecOptions {
  /** G.711 law. RTMS does not say which in the message; µ-law is the default. */
  g711Law?: 'mulaw' | 'alaw';
}

function unsupported(what: string): never {
  throw new OpenRtmsError('UNSUPPORTED', what);
}

export function createAudioEncoder(codec: number, sampleRate: number, channels: number, opts: CodecOptions = {}): AudioEncoder {
  switch (codec) {
    case Codec.L16:
      return { encode: (pcm) => Buffer.from(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength)) };
    case Codec.G711: {
      const law = opts.g711Law ?? 'mulaw';
      return { encode: (pcm) => g711Encode(pcm, law) };
    }
    case Codec.G722:
      if (sampleRate !== 16000 || channels !== 1) unsupported('G.722 is 16 kHz mono only');
      return new G722Encoder();
    case Codec.OPUS:
      return new OpusEncoder(sampleRate, channels);
    default:
      return unsupported(`audio codec ${codec} is not one of L16 (1), G.711 (2), G.722 (3), Opus (4)`);
  }
}

export function createAudioDecoder(codec: number, sampleRate: number, channels: number, opts: CodecOptions = {}): AudioDecoder {
  switch (codec) {
    case Codec.L16:
      return { decode: (data) => bytesToPcm(data) };
    case Codec.G711: {
      const law = opts.g711Law ?? 'mulaw';
      return { decode: (data) => g711Decode(data, law) };
    }
    case Codec.G722:
      if (sampleRate !== 16000 || channels !== 1) unsupported('G.722 is 16 kHz mono only');
      return new G722Decoder();
    case Codec.OPUS:
      return new OpusDecoder(sampleRate, channels);
    default:
      return unsupported(`audio codec ${codec} is not one of L16 (1), G.711 (2), G.722 (3), Opus (4)`);
  }
}
