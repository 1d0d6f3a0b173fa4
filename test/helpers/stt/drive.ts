/** Drives a TranscriptionSink the way the pipeline does and collects the track segments it makes. */
import type { AudioFrame, StreamInfo, TrackSegment } from '../../../src/pipeline/types.js';
import { TranscriptionSink } from '../../../src/intelligence/stt/sink.js';
import { parseTranscription, type TranscriptionConfig } from '../../../src/intelligence/stt/config.js';
import type { SttAdapter } from '../../../src/intelligence/stt/types.js';
import { mediaParams, T0 } from './frames.js';

export const info: StreamInfo = { rtmsStreamId: 'stt-stream-1', product: 'meeting', meetingUuid: 'm-1', startedAt: T0 };

export function entry(json: Record<string, unknown>): TranscriptionConfig {
  return parseTranscription([json])[0];
}

export interface Driven {
  sink: TranscriptionSink;
  segments: TrackSegment[];
  warnings: string[];
}

export function makeSink(config: TranscriptionConfig, adapter: SttAdapter, extra: { backoffMs?: number; finishTimeoutMs?: number; idleCloseMs?: number } = {}): Driven {
  const segments: TrackSegment[] = [];
  const warnings: string[] = [];
  const sink = new TranscriptionSink({ config, adapter, info, logger: { warn: (_o, m) => warnings.push(String(m)) }, ...extra });
  sink.setTrackEmitter((s) => segments.push(s));
  return { sink, segments, warnings };
}

/** Feeds every frame at once (the channel batches and sends as it goes), then closes the sink. */
export async function feedAll(d: Driven, frames: AudioFrame[], multi: boolean): Promise<void> {
  d.sink.onJoined(mediaParams(multi));
  for (const f of frames) d.sink.onAudio(f);
  await d.sink.close();
}

/** Feeds frames at `speed` × real time (tests of reconnects and keep-alives need time to pass). */
export async function feedTimed(d: Driven, frames: AudioFrame[], multi: boolean, speed = 1, during?: (ms: number) => void | Promise<void>): Promise<void> {
  d.sink.onJoined(mediaParams(multi));
  const start = performance.now();
  const t0 = frames[0]?.timestamp ?? 0;
  for (const f of frames) {
    const due = (f.timestamp - t0) / speed;
    const wait = due - (performance.now() - start);
    if (wait > 2) await new Promise((r) => setTimeout(r, wait));
    await during?.(f.timestamp - t0);
    d.sink.onAudio(f);
  }
}
