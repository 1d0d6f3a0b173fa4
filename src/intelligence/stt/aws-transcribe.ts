/**
 * Amazon Transcribe streaming through the official SDK (`@aws-sdk/client-transcribe-streaming`).
 *
 * One connection = one `StartStreamTranscription` HTTP/2 request: the request body is an
 * event stream of `AudioEvent` chunks (raw PCM, signed frame by frame by the SDK), the response
 * body an event stream of `TranscriptEvent`s whose results are partial (`IsPartial`) until the
 * service settles them. Ending the audio stream is Transcribe's "close" message: the SDK sends the
 * empty end-of-stream frame, the service flushes its last results and ends the response.
 */
import {
  StartStreamTranscriptionCommand,
  TranscribeStreamingClient,
  type AudioStream,
  type Item,
  type LanguageCode,
  type Result,
  type TranscriptResultStream,
} from '@aws-sdk/client-transcribe-streaming';
import { ConfigError, OpenRtmsError } from '../../errors.js';
import { SilenceKeepAlive } from './keepalive-silence.js';
import type { SttAdapter, SttConnection, SttConnectionOptions, SttHandlers, SttResult, SttWord } from './types.js';

/** Options of {@link createAwsTranscribeAdapter}. */
export interface AwsTranscribeOptions {
  /** AWS region, e.g. `us-east-1`. Default: `AWS_REGION` from the environment (required one way or the other). */
  region?: string;
  /**
   * Endpoint override (the config's `baseUrl`), e.g. `https://transcribestreaming.us-east-1.amazonaws.com`
   * or a local stand-in `http://127.0.0.1:8443`. Default: the SDK's regional endpoint.
   */
  baseUrl?: string;
  /** Same as `baseUrl` (the SDK's name for it); `baseUrl` wins when both are set. */
  endpoint?: string;
  /** Static credentials. When `accessKeyId`/`secretAccessKey` are absent the SDK's default chain is used (env, profile, SSO, IMDS…). */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Transcribe language code (`en-US`, `de-DE`, …) when the connection carries no language. Default `en-US`. */
  languageCode?: string;
  /** PCM rate sent to Transcribe (8000–48000; Transcribe recommends 16000 for speech). Default 16000. */
  sampleRate?: number;
  /** Largest AudioEvent payload; bigger `send()` buffers are split. Default 200 ms of audio at `sampleRate`. */
  maxChunkBytes?: number;
  /** Custom vocabulary name, passed as `VocabularyName`. */
  vocabularyName?: string;
  /** How long `finish()` waits for the last results after ending the audio stream. Default 10 000 ms. */
  finishTimeoutMs?: number;
  /**
   * Transcribe ends a stream that gets no audio for 15 s. After this long without audio the adapter
   * sends 100 ms of silence (and removes it from result times). Default 5 000 ms; 0 disables.
   */
  keepAliveAfterMs?: number;
}

const PROVIDER = 'aws-transcribe';

/**
 * An {@link SttAdapter} for Amazon Transcribe streaming. `diarize` turns on `ShowSpeakerLabel`
 * (labels `0`, `1`, … on each word); partial results arrive with `final: false`.
 * `onClose` is called exactly once per connection; after `close()` it reports `expected: true`.
 */
export function createAwsTranscribeAdapter(options: AwsTranscribeOptions = {}): SttAdapter {
  const region = options.region ?? process.env.AWS_REGION;
  if (!region) throw new ConfigError('CONFIG_MISSING', 'aws-transcribe: region is not set (options.region or AWS_REGION)');
  if ((options.accessKeyId === undefined) !== (options.secretAccessKey === undefined)) {
    throw new ConfigError('CONFIG_INVALID', 'aws-transcribe: accessKeyId and secretAccessKey must be given together');
  }
  const sampleRate = options.sampleRate ?? 16000;
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48000) {
    throw new ConfigError('CONFIG_INVALID', `aws-transcribe: sampleRate ${sampleRate} is outside 8000–48000`);
  }
  const maxChunkBytes = options.maxChunkBytes ?? Math.round(sampleRate * 0.2) * 2;
  return {
    provider: PROVIDER,
    sampleRate,
    open: (conn, handlers) => openConnection({ ...options, region, sampleRate, maxChunkBytes }, conn, handlers),
  };
}

type Resolved = AwsTranscribeOptions & { region: string; sampleRate: number; maxChunkBytes: number };

async function openConnection(opts: Resolved, conn: SttConnectionOptions, handlers: SttHandlers): Promise<SttConnection> {
  const client = new TranscribeStreamingClient({
    region: opts.region,
    ...(opts.baseUrl ?? opts.endpoint ? { endpoint: opts.baseUrl ?? opts.endpoint } : {}),
    ...(opts.accessKeyId && opts.secretAccessKey
      ? { credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey, ...(opts.sessionToken ? { sessionToken: opts.sessionToken } : {}) } }
      : {}),
    // A streaming request cannot be replayed: the sink owns reconnects.
    maxAttempts: 1,
  });
  const audio = new AudioQueue(opts.maxChunkBytes);
  const silence = new SilenceKeepAlive(conn.sampleRate, opts.keepAliveAfterMs ?? 5_000);
  const abort = new AbortController();
  // The SDK resolves `send()` only once the FIRST transcript event arrived, and the service sends
  // none before it has audio: waiting for `send()` would deadlock. The HTTP/2 response status
  // (seen by a middleware inside the deserializer) is what says the stream was accepted.
  let accepted!: () => void;
  const acceptedOnce = new Promise<void>((resolve) => (accepted = resolve));
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      if ((out.response as { statusCode?: number }).statusCode === 200) accepted();
      return out;
    },
    { step: 'deserialize', priority: 'low', name: 'openrtmsStreamAccepted' },
  );
  const started = client.send(
    new StartStreamTranscriptionCommand({
      LanguageCode: (conn.language ?? opts.languageCode ?? 'en-US') as LanguageCode,
      MediaEncoding: 'pcm',
      MediaSampleRateHertz: conn.sampleRate,
      AudioStream: audio.events(),
      ...(conn.diarize ? { ShowSpeakerLabel: true } : {}),
      ...(opts.vocabularyName ? { VocabularyName: opts.vocabularyName } : {}),
    }),
    { abortSignal: abort.signal },
  );
  try {
    await Promise.race([acceptedOnce, started]);
  } catch (err) {
    audio.end();
    client.destroy();
    throw new OpenRtmsError('STT_CONNECT_FAILED', `aws-transcribe: could not start a stream for ${conn.label}: ${describe(err)}`, { provider: PROVIDER, label: conn.label }, { cause: err });
  }

  let state: 'open' | 'finishing' | 'closed' = 'open';
  let reported = false;
  const keepAlive = silence.afterMs > 0 ? setInterval(() => {
    const pad = state === 'open' ? silence.due() : undefined;
    if (pad) audio.push(pad);
  }, Math.min(silence.afterMs, 1_000)) : undefined;
  keepAlive?.unref();
  const report = (info: { expected: boolean; reason?: string }): void => {
    if (reported) return;
    reported = true;
    clearInterval(keepAlive);
    client.destroy();
    handlers.onClose(info);
  };
  const done = started
    .then((response) => {
      if (!response.TranscriptResultStream) throw new Error('the service answered without a transcript stream');
      return readResults(response.TranscriptResultStream, handlers, silence);
    })
    .then(
      () => report(state === 'open' ? { expected: false, reason: 'aws-transcribe ended the stream' } : { expected: true }),
      (err: unknown) => report(state === 'closed' ? { expected: true, reason: 'closed by client' } : { expected: false, reason: describe(err) }),
    );

  return {
    send(pcm) {
      if (state !== 'open') return;
      audio.push(pcm);
      silence.noteAudio(pcm.length);
    },
    async finish() {
      if (state !== 'open') return done;
      state = 'finishing';
      clearInterval(keepAlive);
      audio.end();
      const timeout = opts.finishTimeoutMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          handlers.onWarning?.(`aws-transcribe: no end of stream ${timeout} ms after the audio ended; closing`);
          state = 'closed';
          abort.abort();
          report({ expected: true, reason: 'finish timed out' });
          resolve();
        }, timeout);
      });
      await Promise.race([done, timedOut]);
      clearTimeout(timer);
    },
    close() {
      if (state === 'closed') return;
      state = 'closed';
      audio.end();
      abort.abort();
      report({ expected: true, reason: 'closed by client' });
    },
  };
}

async function readResults(stream: AsyncIterable<TranscriptResultStream>, handlers: SttHandlers, silence: SilenceKeepAlive): Promise<void> {
  for await (const event of stream) {
    // Errors the service sends inside the stream (BadRequestException, LimitExceededException, …) are thrown by the SDK.
    for (const result of event.TranscriptEvent?.Transcript?.Results ?? []) {
      const mapped = mapResult(result, silence);
      if (mapped) handlers.onResult(mapped);
    }
  }
}

/** Transcribe times are seconds from the start of the audio stream (keep-alive silence included). */
function mapResult(result: Result, silence: SilenceKeepAlive): SttResult | undefined {
  const ms = (s: number | undefined): number => Math.round(silence.toLocal((s ?? 0) * 1000));
  const alt = result.Alternatives?.[0];
  const text = alt?.Transcript?.trim();
  if (!alt || !text) return undefined;
  const words = (alt.Items ?? []).filter((i) => i.Type !== 'punctuation' && i.Content).map((i) => mapItem(i, ms));
  const speaker = words.find((w) => w.speaker !== undefined)?.speaker;
  return {
    text,
    final: result.IsPartial !== true,
    startMs: ms(result.StartTime),
    endMs: ms(result.EndTime),
    ...(words.length ? { words } : {}),
    ...(speaker !== undefined ? { speaker } : {}),
    ...(result.LanguageCode ? { language: result.LanguageCode } : {}),
  };
}

function mapItem(item: Item, ms: (s: number | undefined) => number): SttWord {
  return {
    text: item.Content ?? '',
    startMs: ms(item.StartTime),
    endMs: ms(item.EndTime),
    ...(item.Confidence !== undefined ? { confidence: item.Confidence } : {}),
    ...(item.Speaker !== undefined ? { speaker: item.Speaker } : {}),
  };
}

const describe = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/**
 * The request body: a pull queue the SDK iterates. `push` never blocks (the sink bounds what it
 * sends); each AudioEvent carries at most `maxChunkBytes`, whole 16-bit samples.
 */
class AudioQueue {
  #chunks: Buffer[] = [];
  #ended = false;
  #wake: (() => void) | undefined;

  constructor(private readonly maxChunkBytes: number) {}

  push(pcm: Buffer): void {
    if (this.#ended || pcm.length === 0) return;
    const max = this.maxChunkBytes - (this.maxChunkBytes % 2);
    for (let at = 0; at < pcm.length; at += max) this.#chunks.push(pcm.subarray(at, Math.min(at + max, pcm.length)));
    this.#signal();
  }

  end(): void {
    this.#ended = true;
    this.#signal();
  }

  /**
   * Coalesces what queued up while the SDK was busy into one AudioEvent of at most
   * `maxChunkBytes`: fewer signed frames, no added latency (nothing waits for more audio).
   */
  #take(): Buffer | undefined {
    const first = this.#chunks.shift();
    if (!first) return undefined;
    let size = first.length;
    let n = 0;
    while (n < this.#chunks.length && size + this.#chunks[n]!.length <= this.maxChunkBytes) size += this.#chunks[n++]!.length;
    return n === 0 ? first : Buffer.concat([first, ...this.#chunks.splice(0, n)], size);
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async *events(): AsyncGenerator<AudioStream> {
    for (;;) {
      const chunk = this.#take();
      if (chunk) {
        yield { AudioEvent: { AudioChunk: chunk } };
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}
