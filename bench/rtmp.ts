/**
 * What the RTMP restream costs per stream: CPU of the sink in this process (decoding the audio,
 * FLV framing, pipe writes), without ffmpeg, and ffmpeg's own CPU (AAC encoding, FLV/RTMP muxing,
 * video copied). Drives N RtmpSinks in real time with the bundled camera clip (640x360, 25 fps)
 * and L16 16 kHz mono 20 ms audio, pushing to a local nginx-rtmp (as the tests start it). The
 * driver's own cost is measured in a first pass with a no-op sink and subtracted.
 *
 * Run: `npx tsx bench/rtmp.ts [--streams 4] [--duration 20]`. Prints one JSON object.
 */
import { loadH264 } from '../src/media/assets.js';
import { readProcStat } from '../src/bench/proc.js';
import { createRtmpDestination } from '../src/delivery/rtmp.js';
import type { AudioFrame, StreamSink, VideoFrame } from '../src/pipeline/types.js';
import { startRtmpServer } from '../test/delivery/rtmp-server.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const STREAMS = arg('streams', 4);
const DURATION_S = arg('duration', 20);
const clip = loadH264('camera');
const tone = Buffer.alloc(640);
for (let i = 0; i < 320; i++) tone.writeInt16LE(Math.round(6000 * Math.sin((i / 16000) * 2 * Math.PI * 440)), i * 2);

/** Feeds every sink 20 ms audio and 40 ms video frames stamped with the wall clock, for `seconds`. */
async function drive(sinks: StreamSink[], seconds: number, onTick?: () => void): Promise<number> {
  const t0 = Date.now();
  let audio = 0;
  let video = 0;
  const cpu0 = process.cpuUsage();
  while (Date.now() - t0 < seconds * 1000) {
    const now = Date.now();
    while (audio * 20 <= now - t0) {
      const f: AudioFrame = { userId: 0, userName: '', data: tone, timestamp: t0 + audio * 20, receivedAt: now };
      for (const s of sinks) s.onAudio?.(f);
      audio++;
    }
    while (video * 40 <= now - t0) {
      const f: VideoFrame = { userId: 1, userName: 'Ada', data: clip.accessUnits[video % clip.accessUnits.length].data, timestamp: t0 + video * 40, receivedAt: now, kind: 'video' };
      for (const s of sinks) s.onVideo?.(f);
      video++;
    }
    onTick?.();
    await new Promise((r) => setTimeout(r, 10));
  }
  const c = process.cpuUsage(cpu0);
  return (c.user + c.system) / 1000;
}

const server = await startRtmpServer();
try {
  const noop: StreamSink[] = Array.from({ length: STREAMS }, () => ({ onAudio() {}, onVideo() {}, close: async () => {} }));
  const driverMs = await drive(noop, Math.min(10, DURATION_S));
  const driverPerS = driverMs / Math.min(10, DURATION_S);

  // One destination (and stream name) per sink, so nginx takes every publisher.
  const dests = Array.from({ length: STREAMS }, (_, i) => createRtmpDestination({ type: 'rtmp', name: `bench${i}`, url: `${server.base}/bench${i}` }));
  const sinks = dests.map((d, i) => d.sinkFor({ rtmsStreamId: `s${i}`, product: 'meeting', meetingUuid: `m${i}`, startedAt: Date.now() }));
  // Warm-up (ffmpeg start and probing), then the measured window; ffmpeg's CPU from /proc.
  await drive(sinks, 3);
  const ff0 = sinks.map((s) => readProcStat(`/proc/${s.ffmpegPid}/stat`)?.cpuMs ?? NaN);
  const sinkMs = await drive(sinks, DURATION_S);
  const ff1 = sinks.map((s) => readProcStat(`/proc/${s.ffmpegPid}/stat`)?.cpuMs ?? NaN);
  const all = dests.map((d) => d.stats());
  const stats = { delivered: all.reduce((n, x) => n + x.delivered, 0), dropped: all.reduce((n, x) => n + x.dropped, 0), retried: all.reduce((n, x) => n + x.retried, 0) };
  await Promise.all(dests.map((d) => d.close()));
  const ffmpegMs = ff1.reduce((n, v, i) => n + (v - ff0[i]), 0);
  const streamSeconds = STREAMS * DURATION_S;
  console.log(
    JSON.stringify(
      {
        streams: STREAMS,
        duration_s: DURATION_S,
        sink_cpu_ms_per_stream_second: +((sinkMs - driverPerS * DURATION_S) / streamSeconds).toFixed(3),
        driver_cpu_ms_per_stream_second: +(driverPerS / STREAMS).toFixed(3),
        ffmpeg_cpu_ms_per_stream_second: +(ffmpegMs / streamSeconds).toFixed(2),
        delivered: stats.delivered,
        dropped: stats.dropped,
        retried: stats.retried,
      },
      null,
      2,
    ),
  );
} finally {
  await server.close();
}
