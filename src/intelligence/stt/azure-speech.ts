/**
 * Azure AI Speech (speech-to-text) through the official Speech SDK
 * (`microsoft-cognitiveservices-speech-sdk`): PCM is written into a `PushAudioInputStream`; a
 * `SpeechRecognizer` (or, when diarization is asked, a `ConversationTranscriber`) runs continuous
 * recognition over the SDK's WebSocket. `recognizing`/`transcribing` events are interim results,
 * `recognized`/`transcribed` final ones. Service offsets are 100-ns ticks from the first sample.
 *
 * The SDK reconnects by itself after a dropped socket; the adapter turns that off
 * (`SPEECH-Error-MaxRetryCount` = 0) because the transcription sink owns reconnects and resends
 * the audio the provider had not confirmed. Closing the push stream is the SDK's "end of audio"
 * (an empty `audio` message); the service then ends the turn and the SDK stops the session.
 */
import {
  AudioConfig,
  AudioInputStream,
  AudioStreamFormat,
  CancellationReason,
  Connection,
  ConversationTranscriber,
  OutputFormat,
  PropertyId,
  ResultReason,
  SpeechConfig,
  SpeechRecognizer,
  type ConversationTranscriptionResult,
  type PushAudioInputStream,
  type SpeechRecognitionResult,
} from 'microsoft-cognitiveservices-speech-sdk';
import { ConfigError, OpenRtmsError } from '../../errors.js';
import type { SttAdapter, SttConnection, SttConnectionOptions, SttHandlers, SttResult, SttWord } from './types.js';

/** Options of {@link createAzureSpeechAdapter}. */
export interface AzureSpeechOptions {
  /** Speech resource key (sent as `Ocp-Apim-Subscription-Key`). Required. */
  apiKey: string;
  /** Azure region of the resource, e.g. `westeurope`. Required unless `baseUrl` is given. */
  region?: string;
  /**
   * Service URL instead of the region's. A bare host (`wss://my-host`, `ws://127.0.0.1:PORT`) uses
   * the standard resource path (`SpeechConfig.fromHost`); a URL with a path is used as is
   * (`SpeechConfig.fromEndpoint`, e.g. a container's `ws://host:5000/speech/recognition/conversation/cognitiveservices/v1`).
   */
  baseUrl?: string;
  /** Recognition language when the connection carries none. Default `en-US`. */
  language?: string;
  /** Custom Speech endpoint id when the connection names no `model`. */
  endpointId?: string;
  /** Ask for word timings (detailed output, `WordTimings`). Default true. */
  wordTimestamps?: boolean;
  /** PCM rate written to the push stream (8000 or 16000 for Azure STT). Default 16000. */
  sampleRate?: number;
  /** How long `open()` waits for the service connection. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** How long `finish()` waits for the session to stop after the end of audio. Default 10 000 ms. */
  finishTimeoutMs?: number;
}

const PROVIDER = 'azure-speech';
const TICKS_PER_MS = 10_000;

/**
 * An {@link SttAdapter} for Azure AI Speech. `model` in the connection options is a Custom Speech
 * endpoint id; `diarize` switches to `ConversationTranscriber` (speaker labels `Guest-1`, `Guest-2`, …).
 * `onClose` is called exactly once per connection; after `close()` it reports `expected: true`.
 */
export function createAzureSpeechAdapter(options: AzureSpeechOptions): SttAdapter {
  if (!options.apiKey) throw new ConfigError('CONFIG_MISSING', 'azure-speech: apiKey (the Speech resource key) is not set');
  if (!options.region && !options.baseUrl) throw new ConfigError('CONFIG_MISSING', 'azure-speech: set region or baseUrl');
  if (options.baseUrl && !/^(wss?|https?):\/\//.test(options.baseUrl)) {
    throw new ConfigError('CONFIG_INVALID', `azure-speech: baseUrl ${options.baseUrl} is not a ws(s):// or http(s):// URL`);
  }
  const sampleRate = options.sampleRate ?? 16000;
  if (sampleRate !== 16000 && sampleRate !== 8000) throw new ConfigError('CONFIG_INVALID', `azure-speech: sampleRate ${sampleRate} must be 8000 or 16000`);
  return {
    provider: PROVIDER,
    sampleRate,
    open: (conn, handlers) => openConnection(options, conn, handlers),
  };
}

function speechConfig(opts: AzureSpeechOptions, conn: SttConnectionOptions): SpeechConfig {
  let config: SpeechConfig;
  if (opts.baseUrl) {
    const url = new URL(opts.baseUrl);
    config = url.pathname === '/' || url.pathname === '' ? SpeechConfig.fromHost(url, opts.apiKey) : SpeechConfig.fromEndpoint(url, opts.apiKey);
  } else {
    config = SpeechConfig.fromSubscription(opts.apiKey, opts.region!);
  }
  config.speechRecognitionLanguage = conn.language ?? opts.language ?? 'en-US';
  const endpointId = conn.model ?? opts.endpointId;
  if (endpointId) config.endpointId = endpointId;
  if (opts.wordTimestamps ?? true) config.requestWordLevelTimestamps();
  config.outputFormat = OutputFormat.Detailed;
  // The sink owns reconnects (and resends unconfirmed audio): no silent SDK retries.
  config.setProperty('SPEECH-Error-MaxRetryCount', '0');
  if (conn.diarize) config.setProperty(PropertyId.SpeechServiceResponse_DiarizeIntermediateResults, 'true');
  return config;
}

async function openConnection(opts: AzureSpeechOptions, conn: SttConnectionOptions, handlers: SttHandlers): Promise<SttConnection> {
  const push: PushAudioInputStream = AudioInputStream.createPushStream(AudioStreamFormat.getWaveFormatPCM(conn.sampleRate, 16, 1));
  const audioConfig = AudioConfig.fromStreamInput(push);
  const config = speechConfig(opts, conn);
  const recognizer = conn.diarize ? new ConversationTranscriber(config, audioConfig) : new SpeechRecognizer(config, audioConfig);
  const link = Connection.fromRecognizer(recognizer);

  let state: 'connecting' | 'open' | 'finishing' | 'closed' = 'connecting';
  let reported = false;
  let sessionEnded: (() => void) | undefined;
  let setupFailed: ((why: string) => void) | undefined;
  const dispose = (): void => {
    try {
      push.close();
    } catch {
      /* already closed */
    }
    recognizer.close(undefined, () => undefined);
  };
  const report = (info: { expected: boolean; reason?: string }): void => {
    if (reported) return;
    reported = true;
    state = 'closed';
    sessionEnded?.();
    dispose();
    handlers.onClose(info);
  };

  const onResult = (result: SpeechRecognitionResult | ConversationTranscriptionResult, final: boolean): void => {
    const mapped = mapResult(result, final);
    if (mapped) handlers.onResult(mapped);
  };
  if (recognizer instanceof ConversationTranscriber) {
    recognizer.transcribing = (_s, e) => onResult(e.result, false);
    recognizer.transcribed = (_s, e) => {
      if (e.result.reason === ResultReason.RecognizedSpeech) onResult(e.result, true);
    };
  } else {
    recognizer.recognizing = (_s, e) => onResult(e.result, false);
    recognizer.recognized = (_s, e) => {
      if (e.result.reason === ResultReason.RecognizedSpeech) onResult(e.result, true);
    };
  }
  recognizer.canceled = (_s, e) => {
    if (e.reason === CancellationReason.EndOfStream) {
      sessionEnded?.();
      return;
    }
    const why = `${e.errorDetails ?? 'cancelled'} (code ${e.errorCode})`;
    if (state === 'connecting') setupFailed?.(why);
    else report(state === 'open' ? { expected: false, reason: why } : { expected: true, reason: why });
  };
  recognizer.sessionStopped = () => sessionEnded?.();
  link.disconnected = () => {
    if (state === 'open') report({ expected: false, reason: 'azure-speech closed the connection' });
  };

  const timeout = opts.connectTimeoutMs ?? 10_000;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no connection within ${timeout} ms`)), timeout);
      setupFailed = (why) => {
        clearTimeout(timer);
        reject(new Error(why));
      };
      // Not `openConnection()` first: before recognition starts it would open an *interactive*
      // (single-utterance) connection. Continuous recognition connects at once; `connected` says so.
      link.connected = () => {
        clearTimeout(timer);
        resolve();
      };
      const failed = (e: string): void => setupFailed?.(e);
      if (recognizer instanceof ConversationTranscriber) recognizer.startTranscribingAsync(undefined, failed);
      else recognizer.startContinuousRecognitionAsync(undefined, failed);
    });
  } catch (err) {
    reported = true;
    dispose();
    throw new OpenRtmsError('STT_CONNECT_FAILED', `azure-speech: cannot start recognition for ${conn.label}: ${err instanceof Error ? err.message : String(err)}`, { provider: PROVIDER, label: conn.label }, { cause: err });
  }
  state = 'open';
  const openedAt = Date.now();
  let writtenMs = 0;

  return {
    send(pcm) {
      if (state !== 'open' || pcm.length === 0) return;
      // The SDK keeps the ArrayBuffer it is given: hand it a copy, not a view into a pooled Buffer.
      writtenMs += (pcm.length / 2 / conn.sampleRate) * 1000;
      try {
        push.write(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length) as ArrayBuffer);
      } catch (err) {
        handlers.onWarning?.(`azure-speech: audio not written: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    async finish() {
      if (state !== 'open') return;
      state = 'finishing';
      const ended = new Promise<void>((resolve) => (sessionEnded = resolve));
      push.close();
      // The SDK sends the first 5 s of audio at once, then at most 2× real time: a backlog (audio
      // resent after a reconnect) may still be draining. Wait for it on top of the flush bound.
      const draining = Math.max(0, (writtenMs - 5_000) / 2 - (Date.now() - openedAt));
      const wait = (opts.finishTimeoutMs ?? 10_000) + draining;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), wait)));
      if (await Promise.race([ended.then(() => false), timedOut])) {
        handlers.onWarning?.(`azure-speech: the session did not stop ${wait} ms after the end of audio`);
      }
      clearTimeout(timer);
      await new Promise<void>((resolve) => {
        const done = (): void => resolve();
        if (recognizer instanceof ConversationTranscriber) recognizer.stopTranscribingAsync(done, done);
        else recognizer.stopContinuousRecognitionAsync(done, done);
      });
      report({ expected: true });
    },
    close() {
      if (state === 'closed') return;
      state = 'closed';
      report({ expected: true, reason: 'closed by client' });
    },
  };
}

interface DetailedJson {
  NBest?: Array<{ Confidence?: number; Words?: Array<{ Word?: string; Offset?: number; Duration?: number; Confidence?: number }> }>;
  PrimaryLanguage?: { Language?: string };
}

function mapResult(result: SpeechRecognitionResult | ConversationTranscriptionResult, final: boolean): SttResult | undefined {
  const text = result.text?.trim();
  if (!text) return undefined;
  const speakerId = 'speakerId' in result ? result.speakerId : undefined;
  const speaker = speakerId && speakerId !== 'Unknown' ? speakerId : undefined;
  let words: SttWord[] | undefined;
  let language: string | undefined = result.language;
  if (final && result.json) {
    try {
      const detail = JSON.parse(result.json) as DetailedJson;
      const best = detail.NBest?.[0];
      words = best?.Words?.filter((w) => w.Word).map((w) => ({
        text: w.Word!,
        startMs: ticksToMs(w.Offset),
        endMs: ticksToMs((w.Offset ?? 0) + (w.Duration ?? 0)),
        ...(w.Confidence !== undefined ? { confidence: w.Confidence } : {}),
        ...(speaker !== undefined ? { speaker } : {}),
      }));
      language ??= detail.PrimaryLanguage?.Language;
    } catch {
      /* no detail: text and times only */
    }
  }
  return {
    text,
    final,
    startMs: ticksToMs(result.offset),
    endMs: ticksToMs(result.offset + result.duration),
    ...(words?.length ? { words } : {}),
    ...(speaker !== undefined ? { speaker } : {}),
    ...(language ? { language } : {}),
  };
}

const ticksToMs = (ticks: number | undefined): number => Math.round((ticks ?? 0) / TICKS_PER_MS);
