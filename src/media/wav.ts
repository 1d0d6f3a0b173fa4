/**
 * Streaming 16-bit PCM WAV writer. Samples are buffered in memory and appended every flush
 * (default 500 ms) together with a header rewrite, so a killed process leaves a playable file
 * that lacks at most the last flush interval. Writes are async and serialized.
 */
import { open, type FileHandle } from 'node:fs/promises';

export function wavHeader(sampleRate: number, channels: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** Most bytes held in memory (buffered plus being written) before samples are dropped: ~8 min of 16 kHz mono. */
export const DEFAULT_MAX_QUEUED_BYTES = 16 << 20;

export class WavWriter {
  #file?: Promise<FileHandle>;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #inflightBytes = 0;
  /** Samples (per channel) dropped because the disk fell behind; they become silence once it catches up. */
  droppedSamples = 0;
  #owedSilence = 0;
  #written = 0;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  /** Samples per channel accepted so far (written or pending). */
  samples = 0;

  constructor(
    readonly path: string,
    readonly sampleRate: number,
    readonly channels: number,
    readonly maxQueuedBytes = DEFAULT_MAX_QUEUED_BYTES,
  ) {}

  /**
   * Appends interleaved samples (copied; the caller may reuse its buffer). When the disk has fallen
   * behind by more than `maxQueuedBytes`, the samples are dropped and counted, and written as silence
   * once there is room again, so the file keeps the stream's duration.
   */
  write(pcm: Int16Array): void {
    if (this.#closed) return;
    const n = pcm.length / this.channels;
    this.samples += n;
    this.#payOwedSilence();
    // Order matters: nothing may be appended while silence owed before it is still unwritten.
    if (this.#owedSilence > 0 || this.#full(pcm.byteLength)) {
      this.droppedSamples += n;
      this.#owedSilence += n;
      return;
    }
    this.#pending.push(Buffer.from(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength)));
    this.#pendingBytes += pcm.byteLength;
  }

  /** Appends `n` samples per channel of silence. */
  silence(n: number): void {
    if (this.#closed || n <= 0) return;
    this.samples += n;
    this.#owedSilence += n;
    this.#payOwedSilence();
  }

  #full(bytes: number): boolean {
    return this.#pendingBytes + this.#inflightBytes + bytes > this.maxQueuedBytes;
  }

  /** Writes as much owed silence as fits; a long gap is paid in pieces. */
  #payOwedSilence(): void {
    const frame = this.channels * 2;
    const room = Math.floor((this.maxQueuedBytes - this.#pendingBytes - this.#inflightBytes) / frame);
    const n = Math.min(this.#owedSilence, room);
    if (n <= 0) return;
    this.#pending.push(Buffer.alloc(n * frame));
    this.#pendingBytes += n * frame;
    this.#owedSilence -= n;
  }

  get durationMs(): number {
    return (this.samples * 1000) / this.sampleRate;
  }

  /** Writes what is buffered and updates the header. */
  flush(): Promise<void> {
    this.#payOwedSilence();
    const chunk = this.#pendingBytes ? Buffer.concat(this.#pending, this.#pendingBytes) : undefined;
    this.#pending = [];
    this.#inflightBytes += this.#pendingBytes;
    this.#pendingBytes = 0;
    this.#chain = this.#chain.then(async () => {
      this.#file ??= open(this.path, 'w');
      const fh = await this.#file;
      if (chunk) {
        await fh.write(chunk, 0, chunk.length, 44 + this.#written);
        this.#written += chunk.length;
        this.#inflightBytes -= chunk.length;
      }
      await fh.write(wavHeader(this.sampleRate, this.channels, this.#written), 0, 44, 0);
    });
    return this.#chain;
  }

  async close(): Promise<void> {
    if (this.#closed) return this.#chain;
    await this.flush();
    // Whatever silence is still owed is written now, in pieces if it is long.
    while (this.#owedSilence > 0) await this.flush();
    this.#closed = true;
    await this.#chain;
    if (this.#file) await (await this.#file).close();
  }
}

/** Reads a 16-bit PCM WAV written by WavWriter (or any canonical 44-byte-header WAV). */
export function parseWav(buf: Buffer): { sampleRate: number; channels: number; samples: Int16Array } {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  const channels = buf.readUInt16LE(22);
  const sampleRate = buf.readUInt32LE(24);
  const dataBytes = Math.min(buf.readUInt32LE(40), buf.length - 44);
  const samples = new Int16Array(dataBytes >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(44 + i * 2);
  return { sampleRate, channels, samples };
}
