/**
 * A deterministic "speech recognizer" for the vendor stand-ins: it knows the emulator's speech
 * assets (8 lines, 4 speakers) and finds them in the audio it is sent by matching 20 ms energy
 * envelopes — robust to codecs, resampling and where the audio starts (a chunk may begin in the
 * middle of a line). A found line is reported with its exact text, its speaker, and its time on the
 * connection's own timeline; words are spread over the line's duration by length.
 *
 * This lets the stand-ins answer with the real words, and the tests check speaker routing: a
 * segment attributed to a participant must carry a line that participant spoke.
 */
import { loadSpeech, type SpeechLine } from '../../../src/media/assets.js';

export interface Recognized {
  line: number;
  text: string;
  userId: number;
  speaker: string;
  /** Index of the speaker in order of first appearance in the assets (diarization label). */
  speakerIndex: number;
  /** Times on the connection, ms. */
  startMs: number;
  endMs: number;
  words: { text: string; startMs: number; endMs: number }[];
}

interface LineModel {
  line: SpeechLine;
  env: Float64Array;
  /** Word boundaries in windows from the line start. */
  words: { text: string; from: number; to: number }[];
}

const LOUD = 300;
const MATCH_WINDOWS = 40;
const MIN_WINDOWS = 10;
const THRESHOLD = 0.85;

let models: LineModel[] | undefined;
const speakers: number[] = [];

function envelope(pcm: Int16Array, win: number): Float64Array {
  const n = Math.floor(pcm.length / win);
  const out = new Float64Array(n);
  for (let w = 0; w < n; w++) {
    let sq = 0;
    for (let i = w * win; i < (w + 1) * win; i++) sq += pcm[i] * pcm[i];
    out[w] = Math.sqrt(sq / win);
  }
  return out;
}

function lineModels(): LineModel[] {
  if (models) return models;
  const { pcm, lines } = loadSpeech();
  models = lines.map((line) => {
    const env = envelope(pcm.subarray(line.offset_samples, line.offset_samples + line.length_samples), 320);
    // Words spread over the voiced part of the line, by character count.
    let first = 0;
    while (first < env.length && env[first] < LOUD) first++;
    let last = env.length - 1;
    while (last > first && env[last] < LOUD) last--;
    const tokens = line.text.split(/\s+/).filter(Boolean);
    const total = tokens.reduce((n, t) => n + t.length + 1, 0);
    let at = first;
    const span = last + 1 - first;
    const words = tokens.map((t) => {
      const len = ((t.length + 1) / total) * span;
      const w = { text: t, from: Math.round(at), to: Math.round(at + len) };
      at += len;
      return w;
    });
    if (!speakers.includes(line.user_id)) speakers.push(line.user_id);
    return { line, env, words };
  });
  return models;
}

function correlation(a: Float64Array, ao: number, b: Float64Array, bo: number, n: number): number {
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    sa += a[ao + i];
    sb += b[bo + i];
  }
  const ma = sa / n;
  const mb = sb / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[ao + i] - ma;
    const y = b[bo + i] - mb;
    cov += x * y;
    va += x * x;
    vb += y * y;
  }
  return va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : 0;
}

/** One connection's recognizer: push PCM as it arrives, take what was recognized. */
export class Recognizer {
  readonly #win: number;
  readonly #msPerWin = 20;
  #env: number[] = [];
  #carry: Int16Array = new Int16Array(0);
  #pos = 0;
  #pending?: { model: LineModel; offset: number; at: number };
  /** Total samples received. */
  samples = 0;

  constructor(readonly sampleRate = 16000) {
    this.#win = sampleRate / 50;
    lineModels();
  }

  push(pcm: Int16Array): Recognized[] {
    this.samples += pcm.length;
    const all = new Int16Array(this.#carry.length + pcm.length);
    all.set(this.#carry);
    all.set(pcm, this.#carry.length);
    const n = Math.floor(all.length / this.#win);
    for (let w = 0; w < n; w++) {
      let sq = 0;
      for (let i = w * this.#win; i < (w + 1) * this.#win; i++) sq += all[i] * all[i];
      this.#env.push(Math.sqrt(sq / this.#win));
    }
    this.#carry = all.slice(n * this.#win);
    return this.#scan(false);
  }

  /** The end of the audio: what is matched so far is reported, a line cut short with the words heard. */
  flush(): Recognized[] {
    return this.#scan(true);
  }

  #scan(final: boolean): Recognized[] {
    const out: Recognized[] = [];
    const env = Float64Array.from(this.#env);
    for (;;) {
      if (this.#pending) {
        const { model, offset, at } = this.#pending;
        const end = at + (model.env.length - offset);
        if (env.length < end && !final) break;
        out.push(this.#report(model, offset, at, Math.min(end, env.length)));
        this.#pending = undefined;
        this.#pos = end;
        continue;
      }
      let q = this.#pos;
      while (q < env.length && env[q] < LOUD) q++;
      if (q >= env.length) {
        this.#pos = q;
        break;
      }
      const avail = env.length - q;
      if (avail < MATCH_WINDOWS && !final) break;
      let best: { model: LineModel; offset: number; score: number } | undefined;
      for (const model of lineModels()) {
        for (let o = 0; o < model.env.length - MIN_WINDOWS; o++) {
          const m = Math.min(MATCH_WINDOWS, model.env.length - o, avail);
          if (m < MIN_WINDOWS) continue;
          const score = correlation(env, q, model.env, o, m);
          if (!best || score > best.score) best = { model, offset: o, score };
        }
      }
      if (!best || best.score < THRESHOLD) {
        this.#pos = q + 1;
        continue;
      }
      this.#pending = { model: best.model, offset: best.offset, at: q };
    }
    return out;
  }

  #report(model: LineModel, offset: number, at: number, end: number): Recognized {
    const ms = (w: number) => Math.round((at + w - offset) * this.#msPerWin);
    const words = model.words.filter((w) => w.from >= offset - 2 && w.from < end - at + offset).map((w) => ({ text: w.text, startMs: ms(Math.max(w.from, offset)), endMs: ms(w.to) }));
    return {
      line: lineModels().indexOf(model),
      text: words.map((w) => w.text).join(' '),
      userId: model.line.user_id,
      speaker: model.line.speaker,
      speakerIndex: speakers.indexOf(model.line.user_id),
      startMs: at * this.#msPerWin,
      endMs: end * this.#msPerWin,
      words,
    };
  }
}

/** The speech lines (exact text and speaker), for assertions. */
export function speechLines(): SpeechLine[] {
  return loadSpeech().lines;
}
