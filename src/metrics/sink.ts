/** MetricsSink: counts one stream's frames and bytes per kind, reconnects and how it ended. No allocation per frame. */
import type { AudioFrame, StreamSink, TimelineEvent, TranscriptFrame, VideoFrame } from '../pipeline/types.js';
import type { OpenRtmsMetrics } from './metrics.js';

export class MetricsSink implements StreamSink {
  #m: OpenRtmsMetrics;
  #frames: OpenRtmsMetrics['frames'];
  #bytes: OpenRtmsMetrics['bytes'];
  #closed = false;

  constructor(metrics: OpenRtmsMetrics) {
    this.#m = metrics;
    this.#frames = metrics.frames;
    this.#bytes = metrics.bytes;
    metrics._streamOpened();
  }

  onAudio(f: AudioFrame): void {
    this.#frames.audio++;
    this.#bytes.audio += f.data.length;
  }
  onVideo(f: VideoFrame): void {
    this.#frames.video++;
    this.#bytes.video += f.data.length;
  }
  onShare(f: VideoFrame): void {
    this.#frames.deskshare++;
    this.#bytes.deskshare += f.data.length;
  }
  onTranscript(t: TranscriptFrame): void {
    this.#frames.transcript++;
    this.#bytes.transcript += t.text.length;
  }
  onChat(c: { text: string }): void {
    this.#frames.chat++;
    this.#bytes.chat += c.text.length;
  }
  onEvent(e: TimelineEvent): void {
    if (e.type === 'reconnecting') this.#m.reconnect(String(e.data?.code ?? 'unknown'));
    else if (e.type === 'closed') this.#m.streamClosed(String(e.data?.reason ?? 'unknown'));
  }
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#m._streamClosed();
  }
}
