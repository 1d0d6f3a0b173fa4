/**
 * The speech-to-text contract. A provider adapter (`deepgram.ts`, `assemblyai.ts`, …) only speaks
 * its vendor's protocol on ONE connection: it opens, takes PCM, reports results, honours the
 * vendor's keep-alive and close messages. Everything else — resampling to the adapter's rate,
 * buffering while a connection is down (bounded, counted), reconnecting, mapping result times to
 * the stream's clock, per-speaker routing, storing the results as a transcript track — belongs to
 * the transcription sink that drives adapters, so every vendor behaves the same way.
 */

/** One word with its timing, when the provider gives word timings. Times are ms from the first sample sent on this connection. */
export interface SttWord {
  text: string;
  startMs: number;
  endMs: number;
  confidence?: number;
  /** The provider's diarization label (mixed audio only). */
  speaker?: string;
}

/** One result. Times are ms from the first sample sent on this connection. */
export interface SttResult {
  text: string;
  /** false = an interim hypothesis that a later result replaces; only final results are stored. */
  final: boolean;
  startMs: number;
  endMs: number;
  words?: SttWord[];
  /** The provider's diarization label for the whole result (mixed audio only). */
  speaker?: string;
  language?: string;
}

/** What an adapter is asked to open. Audio is always 16-bit little-endian mono PCM at `sampleRate`. */
export interface SttConnectionOptions {
  /** The adapter's own `sampleRate` preference, after the sink resampled to it. */
  sampleRate: number;
  /** Ask the provider to label speakers (mixed audio). */
  diarize: boolean;
  /** BCP-47 language hint, when configured. */
  language?: string;
  /** Provider model name, when configured. */
  model?: string;
  /** A label for logs and the stand-in checks: `<rtmsStreamId>/<userId|mixed>`. */
  label: string;
}

/** Callbacks an adapter reports through. Never throw from them. */
export interface SttHandlers {
  onResult(result: SttResult): void;
  /**
   * The connection ended. `expected` = after `finish()`; otherwise the sink reconnects and resends
   * what the provider had not confirmed (bounded buffer).
   */
  onClose(info: { expected: boolean; reason?: string; code?: number }): void;
  /** A failure worth logging that does not end the connection (bad message, warning). */
  onWarning?(message: string): void;
}

/** One open connection to a provider. */
export interface SttConnection {
  /** Send PCM (s16le mono at the negotiated rate). Must not block; the adapter may batch. */
  send(pcm: Buffer): void;
  /** Graceful end: the vendor's close/flush message; resolves once the last results arrived (or after a bounded wait). */
  finish(): Promise<void>;
  /** Abrupt end (stream deleted, process stopping). Idempotent. */
  close(): void;
}

/** A speech-to-text vendor. */
export interface SttAdapter {
  /** `deepgram`, `assemblyai`, `openai`, `aws-transcribe`, `azure-speech`, `zoom-scribe`. */
  readonly provider: string;
  /** The PCM rate this vendor wants (the sink resamples to it). */
  readonly sampleRate: number;
  /** Opens a connection; rejects with an OpenRtmsError (code `STT_CONNECT_FAILED`, message naming the provider and why). */
  open(options: SttConnectionOptions, handlers: SttHandlers): Promise<SttConnection>;
}
