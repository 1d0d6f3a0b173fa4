/**
 * What a stream SHOULD carry for a scenario and seed, rendered without sockets: the mixed audio
 * track, each audio frame exactly as the emulator builds it before encoding, the transcript lines
 * and the chat messages. Tests compare what a client recorded with this, sample for sample.
 *
 * ```ts
 * const expected = renderExpected(scenario, seed);
 * assert.deepEqual(recordedPcm16k, expected.mixed16k.subarray(0, recordedPcm16k.length));
 * assert.deepEqual(received.map((t) => t.text), expected.transcripts.map((t) => t.text));
 * ```
 * Content timestamps on the wire are the stream's start epoch plus the scenario times given here.
 */
import { monoToStereo, resample } from '../media/l16.js';
import { compileScenario, mixedPcm, speakerPcm, type Plan, type Scenario } from './scenario.js';

/** One transcript message the scenario produces (sent when the line ends). */
export interface ExpectedTranscript {
  user_id: number;
  user_name: string;
  /** Exactly the `data` text of MEDIA_DATA_TRANSCRIPT. */
  text: string;
  /** Scenario ms; on the wire `start_time`/`end_time` are start epoch + these. */
  start_ms: number;
  end_ms: number;
}

/** One chat message the scenario produces. */
export interface ExpectedChat {
  user_id: number;
  user_name: string;
  text: string;
  at_ms: number;
}

/** Everything a stream carries for one scenario + seed. */
export interface ExpectedContent {
  plan: Plan;
  durationMs: number;
  /** The mixed track (what AUDIO_MIXED_STREAM carries) for the whole scenario, 16 kHz mono. */
  mixed16k: Int16Array;
  transcripts: ExpectedTranscript[];
  chat: ExpectedChat[];
}

/** Audio parameters that change the samples of a frame (codec aside). */
export interface FrameFormat {
  /** Hz. Default 16000. */
  sampleRate?: number;
  /** 1 or 2. Default 1. */
  channels?: number;
  /** Frame length in ms (`send_rate`). Default 20. */
  sendRate?: number;
}

/** Compiles the scenario (unless a plan is given) and renders its content. */
export function renderExpected(scenario: Scenario | Plan, seed = 1): ExpectedContent {
  const plan = 'speeches' in scenario ? scenario : compileScenario(scenario, seed);
  const transcripts: ExpectedTranscript[] = [];
  const chat: ExpectedChat[] = [];
  for (const e of plan.events) {
    if (e.kind === 'transcript') transcripts.push({ user_id: e.userId, user_name: e.userName, text: e.text, start_ms: e.startMs, end_ms: e.endMs });
    else if (e.kind === 'chat') chat.push({ user_id: e.userId, user_name: e.userName, text: e.text, at_ms: e.atMs });
  }
  return { plan, durationMs: plan.durationMs, mixed16k: mixedPcm(plan, 0, plan.durationMs), transcripts, chat };
}

/** Converts a 16 kHz mono interval to a frame's sample rate and channel count (as sent, before encoding). */
export function toFrameFormat(pcm16k: Int16Array, format: FrameFormat = {}): Int16Array {
  let pcm = resample(pcm16k, 16000, format.sampleRate ?? 16000);
  if ((format.channels ?? 1) === 2) pcm = monoToStereo(pcm);
  return pcm;
}

/**
 * The PCM of the mixed audio frame the emulator sends at scenario time `atMs` (a multiple of the
 * send rate), before encoding. With L16 this is exactly what the client decodes.
 */
export function expectedMixedFrame(plan: Plan, atMs: number, format: FrameFormat = {}): Int16Array {
  return toFrameFormat(mixedPcm(plan, atMs, format.sendRate ?? 20), format);
}

/** The per-speaker frames (AUDIO_MULTI_STREAMS, at most 3) the emulator sends at `atMs`, before encoding. */
export function expectedSpeakerFrames(plan: Plan, atMs: number, format: FrameFormat = {}): { userId: number; userName: string; pcm: Int16Array }[] {
  return speakerPcm(plan, atMs, format.sendRate ?? 20).map((s) => ({ ...s, pcm: toFrameFormat(s.pcm, format) }));
}
