/**
 * Audio frames as the RTMS client emits them, made from the emulator's speech assets: L16 16 kHz
 * mono, 20 ms each, stamped on a stream clock. Per participant (AUDIO_MULTI_STREAMS: frames only
 * while that participant speaks) or mixed (user 0, continuous, silence between lines).
 */
import type { AudioFrame } from '../../../src/pipeline/types.js';
import { loadSpeech } from '../../../src/media/assets.js';
import { Codec, DataOption, SampleRate, type MediaParams } from '../../../src/protocol/index.js';

export interface Utterance {
  line: number;
  /** ms after the stream start. */
  atMs: number;
}

export const T0 = 1_767_225_600_000;

export function mediaParams(multi: boolean): MediaParams {
  return { audio: { codec: Codec.L16, sample_rate: SampleRate.SR_16K, channel: 1, data_opt: multi ? DataOption.AUDIO_MULTI_STREAMS : DataOption.AUDIO_MIXED_STREAM } } as MediaParams;
}

function frame(pcm: Int16Array, userId: number, userName: string, timestamp: number): AudioFrame {
  return { data: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), userId, userName, timestamp, receivedAt: timestamp };
}

/** Frames of the utterances, in time order. */
export function speechFrames(utterances: Utterance[], multi: boolean): AudioFrame[] {
  const { pcm, lines } = loadSpeech();
  const frames: AudioFrame[] = [];
  const end = Math.max(...utterances.map((u) => u.atMs + (lines[u.line].length_samples / 16)));
  if (multi) {
    for (const u of utterances) {
      const l = lines[u.line];
      const src = pcm.subarray(l.offset_samples, l.offset_samples + l.length_samples);
      for (let i = 0; i < src.length; i += 320) {
        const f = new Int16Array(320);
        f.set(src.subarray(i, Math.min(src.length, i + 320)));
        frames.push(frame(f, l.user_id, l.speaker, T0 + u.atMs + i / 16));
      }
    }
    return frames.sort((a, b) => a.timestamp - b.timestamp);
  }
  const total = Math.ceil((end * 16) / 320) * 320 + 320;
  const mixed = new Int16Array(total);
  for (const u of utterances) {
    const l = lines[u.line];
    mixed.set(pcm.subarray(l.offset_samples, l.offset_samples + l.length_samples), u.atMs * 16);
  }
  for (let i = 0; i < total; i += 320) frames.push(frame(mixed.slice(i, i + 320), 0, '', T0 + i / 16));
  return frames;
}
