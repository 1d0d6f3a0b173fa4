/**
 * Speech-like test audio for the cloud speech-to-text stand-ins, and the "recogniser" the
 * stand-ins run on what they receive. Each word is a tone burst at its own frequency; words of one
 * utterance are 200 ms apart, utterances 700 ms apart. The stand-ins decode the PCM they are sent
 * (energy gate per 10 ms frame, frequency by zero crossings), so a result's text, times and speaker
 * only come out right when the adapter delivered the audio intact, in order, at the right rate.
 */

/** The vocabulary: tone frequency → word; below 1000 Hz is speaker "0", above is speaker "1". */
export const TONE_WORDS = [
  { text: 'alpha', hz: 400 },
  { text: 'bravo', hz: 700 },
  { text: 'charlie', hz: 1300 },
  { text: 'delta', hz: 1700 },
] as const;

export interface ToneWord {
  text: string;
  startMs: number;
  endMs: number;
  speaker: string;
}

export interface ToneScript {
  pcm: Buffer;
  /** The words as generated: what a correct transcript must give back. */
  words: ToneWord[];
  /** Index into `words` where each utterance starts. */
  utterances: ToneWord[][];
}

const WORD_MS = 300;
const WORD_GAP_MS = 200;
const UTTERANCE_GAP_MS = 700;

/** Two utterances ("alpha bravo", "charlie delta") of 16-bit mono PCM at `rate`, with 200 ms of lead-in silence. */
export function toneScript(rate = 16000): ToneScript {
  const plan: Array<{ text: string; hz: number } | { silenceMs: number }> = [
    { silenceMs: 200 },
    TONE_WORDS[0], { silenceMs: WORD_GAP_MS }, TONE_WORDS[1],
    { silenceMs: UTTERANCE_GAP_MS },
    TONE_WORDS[2], { silenceMs: WORD_GAP_MS }, TONE_WORDS[3],
    { silenceMs: 400 },
  ];
  const parts: Buffer[] = [];
  const words: ToneWord[] = [];
  let ms = 0;
  for (const step of plan) {
    const durMs = 'silenceMs' in step ? step.silenceMs : WORD_MS;
    const n = Math.round((rate * durMs) / 1000);
    const buf = Buffer.alloc(n * 2);
    if (!('silenceMs' in step)) {
      for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(9000 * Math.sin((2 * Math.PI * step.hz * i) / rate)), i * 2);
      words.push({ text: step.text, startMs: ms, endMs: ms + durMs, speaker: step.hz < 1000 ? '0' : '1' });
    }
    parts.push(buf);
    ms += durMs;
  }
  return { pcm: Buffer.concat(parts), words, utterances: [words.slice(0, 2), words.slice(2)] };
}

/** Splits PCM into `frameMs` frames, the way the transcription sink hands audio to an adapter. */
export function frames(pcm: Buffer, rate: number, frameMs = 20): Buffer[] {
  const size = Math.round((rate * frameMs) / 1000) * 2;
  const out: Buffer[] = [];
  for (let at = 0; at < pcm.length; at += size) out.push(pcm.subarray(at, Math.min(at + size, pcm.length)));
  return out;
}

export interface ToneEvent {
  final: boolean;
  words: ToneWord[];
}

/**
 * Incremental recogniser for {@link toneScript} audio: `feed` returns a partial result after each
 * word of an open utterance and a final one once 400 ms of silence closed it; `end` flushes.
 */
export class ToneRecognizer {
  readonly #frame: number;
  #pending = Buffer.alloc(0);
  #frameIndex = 0;
  #burst: { start: number; crossings: number; last: number; samples: number } | undefined;
  #silentFrames = 0;
  #utterance: ToneWord[] = [];
  /** Total samples received (for checks on the amount of audio). */
  samples = 0;

  constructor(private readonly rate: number) {
    this.#frame = Math.round(rate / 100);
  }

  feed(pcm: Buffer): ToneEvent[] {
    const out: ToneEvent[] = [];
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, pcm]) : Buffer.from(pcm);
    this.samples += pcm.length / 2;
    const bytes = this.#frame * 2;
    while (this.#pending.length >= bytes) {
      this.#onFrame(this.#pending.subarray(0, bytes), out);
      this.#pending = this.#pending.subarray(bytes);
    }
    return out;
  }

  end(): ToneEvent[] {
    const out: ToneEvent[] = [];
    this.#closeBurst(out);
    if (this.#utterance.length) out.push({ final: true, words: this.#utterance });
    this.#utterance = [];
    return out;
  }

  #ms(frameIndex: number): number {
    return Math.round((frameIndex * this.#frame * 1000) / this.rate);
  }

  #onFrame(frame: Buffer, out: ToneEvent[]): void {
    let energy = 0;
    for (let i = 0; i < frame.length; i += 2) energy += frame.readInt16LE(i) ** 2;
    const voiced = Math.sqrt(energy / (frame.length / 2)) > 1000;
    if (voiced) {
      this.#silentFrames = 0;
      const b = (this.#burst ??= { start: this.#frameIndex, crossings: 0, last: 0, samples: 0 });
      for (let i = 0; i < frame.length; i += 2) {
        const s = frame.readInt16LE(i);
        if ((s >= 0) !== (b.last >= 0) && b.samples > 0) b.crossings++;
        b.last = s;
        b.samples++;
      }
    } else {
      this.#closeBurst(out);
      this.#silentFrames++;
      if (this.#silentFrames === 40 && this.#utterance.length) {
        out.push({ final: true, words: this.#utterance });
        this.#utterance = [];
      }
    }
    this.#frameIndex++;
  }

  #closeBurst(out: ToneEvent[]): void {
    const b = this.#burst;
    if (!b) return;
    this.#burst = undefined;
    const hz = (b.crossings / 2) * (this.rate / b.samples);
    const match = TONE_WORDS.find((w) => Math.abs(w.hz - hz) / w.hz < 0.1);
    this.#utterance = [
      ...this.#utterance,
      { text: match?.text ?? `unknown-${Math.round(hz)}hz`, startMs: this.#ms(b.start), endMs: this.#ms(this.#frameIndex), speaker: hz < 1000 ? '0' : '1' },
    ];
    out.push({ final: false, words: this.#utterance });
  }
}
