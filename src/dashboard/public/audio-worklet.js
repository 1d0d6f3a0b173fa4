// AudioWorklet of the live player: a jitter buffer of PCM placed by RTMS timestamp, read at the
// audio clock. Chunks of several speakers at the same timestamp add up (per-speaker audio becomes a
// mix). Reports, every few blocks, which RTMS timestamp it is playing and the RMS of what it actually
// output (after mute), so the page can keep the video on the same clock and expose the level.

const JITTER_MS = 150; // played this far behind the newest sample received
const MAX_BEHIND_MS = 450; // further behind than this: skip ahead to JITTER_MS again
const RING_SECONDS = 4;
const REPORT_EVERY = 4; // blocks

class RtmsPlayer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.rate = 0; // source sample rate, set by the first chunk
    this.ring = null;
    this.origin = 0; // RTMS ms of source sample 0
    this.end = 0; // one past the newest source sample written
    this.pos = -1; // read position in source samples (-1: buffering)
    this.muted = false;
    this.sum = 0;
    this.count = 0;
    this.rms = 0;
    this.blocks = 0;
    this.skips = 0;
    this.underruns = 0;
    this.port.onmessage = (e) => this.onMessage(e.data);
  }

  onMessage(m) {
    if (m.type === 'mute') this.muted = m.muted;
    else if (m.type === 'reset') this.pos = -1;
    else if (m.type === 'pcm') this.write(m.ts, m.rate, m.channels, m.pcm);
  }

  write(ts, rate, channels, pcm) {
    if (rate !== this.rate) {
      this.rate = rate;
      this.ring = new Float32Array(rate * RING_SECONDS);
      this.origin = ts;
      this.end = 0;
      this.pos = -1;
    }
    const n = Math.floor(pcm.length / channels);
    const start = Math.round(((ts - this.origin) * rate) / 1000);
    const ring = this.ring;
    const len = ring.length;
    if (start + n <= (this.pos < 0 ? this.end - len : this.pos)) return; // too late to be played
    if (start + n > this.end) {
      // New ground: clear what lies between the old end and the new one before adding.
      const from = Math.max(this.end, start + n - len);
      for (let i = from; i < start + n; i++) ring[((i % len) + len) % len] = 0;
      this.end = start + n;
    }
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < channels; c++) s += pcm[i * channels + c];
      const k = (((start + i) % len) + len) % len;
      ring[k] += s / channels / 32768;
    }
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    const ring = this.ring;
    const jitter = (JITTER_MS * this.rate) / 1000;
    if (ring && this.pos < 0 && this.end > 0) this.pos = Math.max(0, this.end - jitter);
    let playTs = null;
    if (ring && this.pos >= 0) {
      if (this.end - this.pos > (MAX_BEHIND_MS * this.rate) / 1000) {
        this.pos = this.end - jitter;
        this.skips++;
      }
      playTs = this.origin + (this.pos * 1000) / this.rate;
      // Up to 4 % faster while more than the jitter buffer is waiting (clocks drift, batches arrive
      // in bursts): the latency comes back down without the skip, which is audible.
      const over = (this.end - this.pos) / jitter - 1;
      const step = (this.rate / sampleRate) * (1 + Math.max(0, Math.min(0.04, over * 0.04)));
      const len = ring.length;
      for (let i = 0; i < out.length; i++) {
        let v = 0;
        if (this.pos < this.end - 1) {
          const p = Math.floor(this.pos);
          const f = this.pos - p;
          v = ring[p % len] * (1 - f) + ring[(p + 1) % len] * f;
        }
        if (this.muted) v = 0;
        out[i] = v;
        this.sum += v * v;
        this.pos += step;
      }
      this.count += out.length;
      if (this.pos >= this.end) {
        // Ran dry: wait for a jitter buffer's worth again.
        this.underruns++;
        this.pos = -1;
      }
    } else out.fill(0);
    if (++this.blocks % REPORT_EVERY === 0) {
      if (this.count) this.rms = Math.sqrt(this.sum / this.count);
      this.sum = 0;
      this.count = 0;
      // playTs is the timestamp of this block's first sample, which the context plays at currentTime.
      this.port.postMessage({ ctxTime: currentTime, playTs, rms: this.rms, bufferedMs: this.pos >= 0 ? ((this.end - this.pos) * 1000) / this.rate : 0, skips: this.skips, underruns: this.underruns });
    }
    return true;
  }
}

registerProcessor('rtms-player', RtmsPlayer);
