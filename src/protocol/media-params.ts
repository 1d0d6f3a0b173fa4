/**
 * Media parameters: builders with Zoom's documented defaults, the rules that bind them
 * (Opus needs 48 kHz, JPG/PNG at most 5 fps, H.264 at most 30 fps), and media-type bitmask helpers.
 */
import {
  Channel,
  Codec,
  ContentType,
  DataOption,
  MediaType,
  Resolution,
  SAMPLE_RATE_HZ,
  SampleRate,
  TranscriptLanguage,
} from './constants.js';
import type { AudioParams, MediaParams, TranscriptParams, VideoParams } from './messages.js';

/** Fully specified audio parameters. */
export type AudioConfig = Required<AudioParams>;
/** Fully specified video/deskshare parameters. */
export type VideoConfig = Required<VideoParams>;
/** Transcript parameters with defaults applied. */
/** `target_language` (translation, July 2026) is present only when asked for. */
export type TranscriptConfig = { content_type: number; src_language: number; enable_lid: boolean; target_language?: number };

/** The media kinds RTMS streams, keyed as in `media_params` and `server_urls`. */
export type MediaKind = 'audio' | 'video' | 'deskshare' | 'transcript' | 'chat';
export const MEDIA_KINDS: readonly MediaKind[] = ['audio', 'video', 'deskshare', 'transcript', 'chat'];

export const MEDIA_KIND_BIT: Readonly<Record<MediaKind, number>> = {
  audio: MediaType.AUDIO,
  video: MediaType.VIDEO,
  deskshare: MediaType.DESKSHARE,
  transcript: MediaType.TRANSCRIPT,
  chat: MediaType.CHAT,
};

/** Raw-protocol default audio: L16, 16 kHz, mono, mixed stream, 20 ms packets. */
export const DEFAULT_AUDIO: AudioConfig = Object.freeze({
  content_type: ContentType.RAW_AUDIO,
  sample_rate: SampleRate.SR_16K,
  channel: Channel.MONO,
  codec: Codec.L16,
  data_opt: DataOption.AUDIO_MIXED_STREAM,
  send_rate: 20,
});

/** Default camera video: H.264, HD, active speaker, 25 fps. */
export const DEFAULT_VIDEO: VideoConfig = Object.freeze({
  content_type: ContentType.RAW_VIDEO,
  codec: Codec.H264,
  resolution: Resolution.HD,
  data_opt: DataOption.VIDEO_SINGLE_ACTIVE_STREAM,
  fps: 25,
});

/** Default screen share: H.264, HD, 5 fps. */
export const DEFAULT_DESKSHARE: VideoConfig = Object.freeze({
  content_type: ContentType.RAW_VIDEO,
  codec: Codec.H264,
  resolution: Resolution.HD,
  data_opt: DataOption.VIDEO_SINGLE_ACTIVE_STREAM,
  fps: 5,
});

/** Default transcript: text, automatic language identification. */
export const DEFAULT_TRANSCRIPT: TranscriptConfig = Object.freeze({
  content_type: ContentType.TEXT,
  src_language: TranscriptLanguage.NONE,
  enable_lid: true,
});

/** A media parameter combination that RTMS does not allow. */
export interface ParamProblem {
  field: string;
  message: string;
}

export function audioParams(overrides: AudioParams = {}): AudioConfig {
  return { ...DEFAULT_AUDIO, ...stripUndefined(overrides) };
}
export function videoParams(overrides: VideoParams = {}): VideoConfig {
  return { ...DEFAULT_VIDEO, ...stripUndefined(overrides) };
}
export function deskshareParams(overrides: VideoParams = {}): VideoConfig {
  return { ...DEFAULT_DESKSHARE, ...stripUndefined(overrides) };
}
export function transcriptParams(overrides: TranscriptParams = {}): TranscriptConfig {
  const merged = { ...DEFAULT_TRANSCRIPT, ...stripUndefined(overrides) };
  // A pinned language only makes sense without language identification, unless the caller said otherwise.
  if (overrides.src_language !== undefined && overrides.src_language !== TranscriptLanguage.NONE && overrides.enable_lid === undefined) {
    merged.enable_lid = false;
  }
  return merged;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** Checks the documented rules; returns every problem found (empty when valid). */
export function checkAudioParams(p: AudioConfig): ParamProblem[] {
  const problems: ParamProblem[] = [];
  if (!(p.sample_rate in SAMPLE_RATE_HZ)) problems.push({ field: 'audio.sample_rate', message: 'must be 0 (8k), 1 (16k), 2 (32k) or 3 (48k)' });
  if (p.channel !== Channel.MONO && p.channel !== Channel.STEREO) problems.push({ field: 'audio.channel', message: 'must be 1 (mono) or 2 (stereo)' });
  if (![Codec.L16, Codec.G711, Codec.G722, Codec.OPUS].includes(p.codec as 1)) problems.push({ field: 'audio.codec', message: 'must be 1 (L16), 2 (G.711), 3 (G.722) or 4 (Opus)' });
  if (p.codec === Codec.OPUS && p.sample_rate !== SampleRate.SR_48K) problems.push({ field: 'audio.sample_rate', message: 'Opus requires 48 kHz (3)' });
  if (p.codec === Codec.G722 && p.sample_rate !== SampleRate.SR_16K) problems.push({ field: 'audio.sample_rate', message: 'G.722 requires 16 kHz (1)' });
  if (p.data_opt !== DataOption.AUDIO_MIXED_STREAM && p.data_opt !== DataOption.AUDIO_MULTI_STREAMS) problems.push({ field: 'audio.data_opt', message: 'must be 1 (mixed) or 2 (multi-stream)' });
  if (!Number.isInteger(p.send_rate) || p.send_rate < 20 || p.send_rate > 1000 || p.send_rate % 20 !== 0) problems.push({ field: 'audio.send_rate', message: 'must be a multiple of 20 ms between 20 and 1000' });
  return problems;
}

export function checkVideoParams(p: VideoConfig, kind: 'video' | 'deskshare' = 'video'): ParamProblem[] {
  const problems: ParamProblem[] = [];
  if (![Codec.H264, Codec.JPG, Codec.PNG].includes(p.codec as 7)) problems.push({ field: `${kind}.codec`, message: 'must be 5 (JPG), 6 (PNG) or 7 (H.264)' });
  if (!(p.resolution >= Resolution.SD && p.resolution <= Resolution.QHD)) problems.push({ field: `${kind}.resolution`, message: 'must be 1 (SD) to 4 (QHD)' });
  const maxFps = p.codec === Codec.H264 ? 30 : 5;
  if (!(p.fps >= 1 && p.fps <= maxFps)) problems.push({ field: `${kind}.fps`, message: `must be 1..${maxFps} for this codec` });
  return problems;
}

export function checkTranscriptParams(p: TranscriptConfig): ParamProblem[] {
  if (!(p.src_language === -1 || (Number.isInteger(p.src_language) && p.src_language >= 0 && p.src_language <= 36))) {
    return [{ field: 'transcript.src_language', message: 'must be -1 (auto) or a language code 0..36' }];
  }
  // A translation target is a real language: "automatic" (-1) means nothing as a target.
  if (p.target_language !== undefined && !(Number.isInteger(p.target_language) && p.target_language >= 0 && p.target_language <= 36)) {
    return [{ field: 'transcript.target_language', message: 'must be a language code 0..36' }];
  }
  return [];
}

/** Samples per channel in one packet: sample rate × send rate (16 kHz × 20 ms = 320). */
export function samplesPerPacket(p: Pick<AudioConfig, 'sample_rate' | 'send_rate'>): number {
  return (SAMPLE_RATE_HZ[p.sample_rate as SampleRate] * p.send_rate) / 1000;
}

/** Bitmask of the given kinds (`ALL` when every kind is asked for is left to the caller). */
export function mediaTypeMask(kinds: Iterable<MediaKind>): number {
  let mask = 0;
  for (const k of kinds) mask |= MEDIA_KIND_BIT[k];
  return mask;
}

/** Kinds named by a bitmask; the ALL bit (32) expands to every kind. */
export function kindsOfMask(mask: number): MediaKind[] {
  if (mask & MediaType.ALL) return [...MEDIA_KINDS];
  return MEDIA_KINDS.filter((k) => (mask & MEDIA_KIND_BIT[k]) !== 0);
}

/** `media_params` for a data handshake: defaults for each asked kind, with overrides. */
export function buildMediaParams(
  kinds: Iterable<MediaKind>,
  overrides: { audio?: AudioParams; video?: VideoParams; deskshare?: VideoParams; transcript?: TranscriptParams } = {},
): MediaParams {
  const params: MediaParams = {};
  for (const k of kinds) {
    if (k === 'audio') params.audio = audioParams(overrides.audio);
    else if (k === 'video') params.video = videoParams(overrides.video);
    else if (k === 'deskshare') params.deskshare = deskshareParams(overrides.deskshare);
    else if (k === 'transcript') params.transcript = transcriptParams(overrides.transcript);
    else if (k === 'chat') params.chat = { content_type: ContentType.TEXT };
  }
  return params;
}
