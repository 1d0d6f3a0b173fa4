/**
 * OpenAI-compatible transcription (OpenAI itself, or a local Whisper server that speaks the same
 * API: faster-whisper-server/speaches, whisper.cpp's server, LocalAI, vLLM) through the official
 * `openai` SDK: `POST <baseUrl>/audio/transcriptions` (multipart: a WAV `file`, `model`,
 * `response_format=verbose_json`, `timestamp_granularities[]=word` and `segment`, `language`).
 *
 * The API is request-based, so a "connection" here is a sequence of requests over consecutive
 * chunks of the audio: about `chunkSeconds` each, cut where the audio is quiet so words are not
 * split (at most 1.5 × `chunkSeconds`). Every answer is final. A request that still fails after the
 * SDK's retries ends the connection unexpectedly, so the sink reconnects and sends the unconfirmed
 * audio again. Chunks that are digital silence are not sent (Whisper invents text for silence).
 */
import OpenAI, { toFile } from 'openai';
import { wavHeader } from '../../media/wav.js';
import type { TranscriptionConfig } from './config.js';
import type { SttAdapter, SttConnection, SttConnectionOptions, SttHandlers, SttWord } from './types.js';

/** Peak below which a chunk counts as silence (about -60 dBFS). */
const SILENT_PEAK = 32;
/** RMS below which the last 100 ms count as a pause where a chunk may end (about -40 dBFS). */
const PAUSE_RMS = 330;

interface VerboseJson {
  text: string;
  language?: string;
  segments?: { start: number; end: number; text: string }[];
  words?: { word: string; start: number; end: number }[];
}

function levels(pcm: Buffer): { peak: number; rms: number } {
  const s = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1);
  let peak = 0;
  let sq = 0;
  for (let i = 0; i < s.length; i++) {
    const v = s[i] < 0 ? -s[i] : s[i];
    if (v > peak) peak = v;
    sq += s[i] * s[i];
  }
  return { peak, rms: s.length ? Math.sqrt(sq / s.length) : 0 };
}

export function createOpenAiAdapter(config: TranscriptionConfig): SttAdapter {
  const client = new OpenAI({
    // A local server usually needs no key; the SDK insists on one.
    apiKey: config.apiKey ?? 'none',
    ...(config.baseUrl ? { baseURL: config.baseUrl } : {}),
    maxRetries: 2,
    timeout: 60_000,
  });
  const chunkMs = config.chunkSeconds * 1000;
  return {
    provider: 'openai',
    sampleRate: 16000,
    async open(o: SttConnectionOptions, h: SttHandlers): Promise<SttConnection> {
      const rate = o.sampleRate;
      let parts: Buffer[] = [];
      let partBytes = 0;
      let partPeak = 0;
      /** Position (ms on this connection) of the chunk being filled. */
      let at = 0;
      let chain: Promise<void> = Promise.resolve();
      /** Requests queued or in flight: bounded, so a server slower than real time cannot grow memory without end. */
      let pending = 0;
      let closed = false;
      let finishing = false;
      const model = o.model ?? config.model ?? 'whisper-1';

      const post = (pcm: Buffer, startMs: number, peak: number) => {
        const endMs = startMs + (pcm.length / 2 / rate) * 1000;
        if (pending * chunkMs >= config.bufferSeconds * 1000) {
          // Falling behind by more than the buffer: end this "connection"; the sink keeps what the
          // server has not answered (bounded, drops counted) and starts over on a new one.
          closed = true;
          h.onClose({ expected: false, reason: 'openai: the server answers slower than real time' });
          return;
        }
        pending++;
        chain = chain.then(async () => {
          if (closed) return;
          if (peak < SILENT_PEAK) {
            h.onResult({ text: '', final: true, startMs, endMs });
            return;
          }
          let r: VerboseJson;
          try {
            const file = await toFile(Buffer.concat([wavHeader(rate, 1, pcm.length), pcm]), 'audio.wav', { type: 'audio/wav' });
            r = (await client.audio.transcriptions.create({
              file,
              model,
              response_format: 'verbose_json',
              timestamp_granularities: ['word', 'segment'],
              ...(o.language ? { language: o.language.split('-')[0] } : {}),
            })) as unknown as VerboseJson;
          } catch (err) {
            if (closed) return;
            closed = true;
            h.onClose({ expected: false, reason: `openai: ${(err as Error).message}` });
            return;
          }
          if (closed && !finishing) return;
          const words: SttWord[] | undefined = r.words?.map((w) => ({ text: w.word.trim(), startMs: startMs + Math.round(w.start * 1000), endMs: startMs + Math.round(w.end * 1000) }));
          const segs = r.segments?.length ? r.segments : [{ start: 0, end: (endMs - startMs) / 1000, text: r.text }];
          segs.forEach((s, i) => {
            const a = startMs + Math.round(s.start * 1000);
            // The last segment of a chunk confirms the whole chunk.
            const b = i === segs.length - 1 ? endMs : startMs + Math.round(s.end * 1000);
            const inSeg = words?.filter((w) => w.startMs >= a && w.startMs < b);
            h.onResult({ text: s.text.trim(), final: true, startMs: a, endMs: b, ...(inSeg?.length ? { words: inSeg } : {}), ...(r.language ? { language: r.language } : {}) });
          });
        }).finally(() => {
          pending--;
        });
      };
      const cut = () => {
        if (!partBytes) return;
        const pcm = Buffer.concat(parts, partBytes);
        post(pcm, at, partPeak);
        at += (partBytes / 2 / rate) * 1000;
        parts = [];
        partBytes = 0;
        partPeak = 0;
      };
      return {
        send(pcm: Buffer) {
          if (closed || finishing) return;
          parts.push(pcm);
          partBytes += pcm.length;
          const { peak, rms } = levels(pcm);
          if (peak > partPeak) partPeak = peak;
          const ms = (partBytes / 2 / rate) * 1000;
          if ((ms >= chunkMs && rms < PAUSE_RMS) || ms >= chunkMs * 1.5) cut();
        },
        async finish() {
          if (closed) return;
          finishing = true;
          cut();
          await chain;
          if (!closed) {
            closed = true;
            h.onClose({ expected: true });
          }
        },
        close() {
          closed = true;
          finishing = true;
        },
      };
    },
  };
}
