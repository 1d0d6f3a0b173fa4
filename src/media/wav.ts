/**
 * Streaming 16-bit PCM WAV writer. Samples are buffered in memory and appended every flush
 * (the recorder's, 500 ms by default); the header is rewritten with the data size every
 * {@link HEADER_INTERVAL_MS} and at close (one write per flush instead of two: disk writes are the
 * pipeline's main cost). A killed process leaves a playable file whose header covers all but the
 * last seconds; `repairRecordings` (run by serve and demo at start) makes it cover every byte
 * written, so at most the last flush interval is lost. Writes are async and serialized, and done by
 * the process's disk-write thread (./write-thread.ts) together with every other recording's.
 *
 * A write that fails (disk full, file too large, I/O error) never rejects: it is counted in
 * `writeErrors` / `lostSamples`, and what it held is written as silence once a write succeeds
 * again, so the file keeps the stream's duration and order. While writes fail, the writer only
 * probes the disk with a second of silence per flush and holds nothing else in memory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { sharedBuffer, writeOnThread } from './write-thread.js';

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

/** Longest time the header's data size lags behind the data written (it is exact after close). */
export const HEADER_INTERVAL_MS = 2000;

/** First size of a writer's staging buffer: a second of 16 kHz mono, more than a 500 ms flush holds. */
const STAGE_BYTES = 32_000;

export class WavWriter {
  #file?: Promise<FileHandle>;
  /**
   * Samples since the last flush, copied straight into one staging buffer (no allocation per
   * frame); a flush hands its filled part to the write and takes the spare buffer (or a new one).
   */
  #stage: Buffer = sharedBuffer(0);
  #stage16: Int16Array = new Int16Array(0);
  #spare?: Buffer;
  #pendingBytes = 0;
  /** Samples per channel of audio (not silence) staged: what a failed write loses. */
  #pendingAudio = 0;
  #inflightBytes = 0;
  /**
   * Samples (per channel) not written as received: dropped because the disk fell behind, or lost to a
   * failed write (also in `lostSamples`). They are silence in the file once the disk catches up.
   */
  droppedSamples = 0;
  #owedSilence = 0;
  #written = 0;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  #closing = false;
  /** Data size the header on disk states (-1: no header yet), and when it was written. */
  #headerBytes = -1;
  #headerAt = 0;
  #openMode: 'w' | 'r+' = 'w';
  #failing = false;
  /** Incremented by each failed write; a chunk taken before a failure may not be written after it. */
  #failures = 0;
  /** Samples per channel accepted so far (written or pending). */
  samples = 0;
  /** Writes that failed (the file could not be opened or written). */
  writeErrors = 0;
  /** The last write error, e.g. ENOSPC. */
  lastError?: Error;
  /** Samples per channel of audio lost to failed writes (or refused while writes failed); silence in the file. */
  lostSamples = 0;

  /**
   * @param resumeBytes continue an existing file whose data part holds this many bytes (appending
   *   after them) instead of creating a new one.
   */
  constructor(
    readonly path: string,
    readonly sampleRate: number,
    readonly channels: number,
    readonly maxQueuedBytes = DEFAULT_MAX_QUEUED_BYTES,
    resumeBytes?: number,
  ) {
    if (resumeBytes !== undefined) {
      const frame = 2 * channels;
      this.#written = resumeBytes - (resumeBytes % frame);
      this.samples = this.#written / frame;
      this.#openMode = 'r+';
      this.#file = open(path, 'r+');
      this.#file.catch(() => {}); // reported by the flush that awaits it
    }
  }

  /**
   * Appends interleaved samples (copied; the caller may reuse its buffer). When the disk has fallen
   * behind by more than `maxQueuedBytes`, the samples are dropped and counted, and written as silence
   * once there is room again, so the file keeps the stream's duration.
   */
  write(pcm: Int16Array): void {
    if (this.#closed) return;
    const n = pcm.length / this.channels;
    this.samples += n;
    if (this.#owedSilence > 0) this.#payOwedSilence();
    // Order matters: nothing may be appended while silence owed before it is still unwritten.
    if (this.#owedSilence > 0 || this.#full(pcm.byteLength)) {
      this.droppedSamples += n;
      if (this.#failing) this.lostSamples += n;
      this.#owedSilence += n;
      return;
    }
    this.#room(pcm.byteLength);
    this.#stage16.set(pcm, this.#pendingBytes >> 1);
    this.#pendingBytes += pcm.byteLength;
    this.#pendingAudio += n;
  }

  /** Makes the staging buffer hold `bytes` more (kept for the next flushes; capped by maxQueuedBytes). */
  #room(bytes: number): void {
    const need = this.#pendingBytes + bytes;
    if (need <= this.#stage.length) return;
    let size = Math.max(STAGE_BYTES, this.#stage.length);
    while (size < need) size *= 2;
    const grown = sharedBuffer(size);
    this.#stage.copy(grown, 0, 0, this.#pendingBytes);
    this.#setStage(grown);
  }

  #setStage(buf: Buffer): void {
    this.#stage = buf;
    this.#stage16 = new Int16Array(buf.buffer, buf.byteOffset, buf.length >> 1);
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

  /** Writes as much owed silence as fits; a long gap is paid in pieces (one second while writes fail). */
  #payOwedSilence(): void {
    const frame = this.channels * 2;
    const room = Math.floor((this.maxQueuedBytes - this.#pendingBytes - this.#inflightBytes) / frame);
    const n = Math.min(this.#owedSilence, room, this.#failing ? this.sampleRate : Infinity);
    if (n <= 0) return;
    this.#room(n * frame);
    this.#stage.fill(0, this.#pendingBytes, this.#pendingBytes + n * frame);
    this.#pendingBytes += n * frame;
    this.#owedSilence -= n;
  }

  get durationMs(): number {
    return (this.samples * 1000) / this.sampleRate;
  }

  /** True while the last write failed. */
  get failing(): boolean {
    return this.#failing;
  }

  /** Writes what is buffered and updates the header. */
  flush(): Promise<void> {
    this.#payOwedSilence();
    let chunk: Buffer | undefined;
    if (this.#pendingBytes) {
      chunk = this.#stage.subarray(0, this.#pendingBytes);
      // The write owns the filled buffer until it is done; samples from now on go to another one.
      const next = this.#spare && this.#spare.length >= Math.min(this.#stage.length, STAGE_BYTES * 4) ? this.#spare : sharedBuffer(Math.min(this.#stage.length, STAGE_BYTES * 4));
      this.#spare = undefined;
      this.#setStage(next);
    }
    const chunkAudio = this.#pendingAudio;
    this.#pendingAudio = 0;
    this.#inflightBytes += this.#pendingBytes;
    this.#pendingBytes = 0;
    const failuresBefore = this.#failures;
    this.#chain = this.#chain.then(async () => {
      let lost = 0;
      try {
        if (chunk && this.#failures !== failuresBefore) {
          // An earlier chunk failed after this one was taken: writing it now would put it in that one's place.
          lost = chunk.length;
          this.#owe(chunk.length, chunkAudio);
        }
        const fh = await this.#handle();
        if (chunk && !lost) {
          // A nearly full disk (or a file-size limit) takes part of a write without an error; writing
          // the rest then reports the cause (ENOSPC, EFBIG). Partial bytes are overwritten later.
          for (let off = 0; off < chunk.length; ) {
            const bytesWritten = await writeOnThread(fh.fd, chunk.subarray(off), 44 + this.#written + off);
            if (bytesWritten <= 0) throw Object.assign(new Error('EIO: the disk took no bytes'), { code: 'EIO' });
            off += bytesWritten;
          }
          this.#written += chunk.length;
        }
        if (this.#headerBytes !== this.#written && (this.#closing || performance.now() - this.#headerAt >= HEADER_INTERVAL_MS || this.#headerBytes < 0)) {
          await writeOnThread(fh.fd, wavHeader(this.sampleRate, this.channels, this.#written), 0);
          this.#headerBytes = this.#written;
          this.#headerAt = performance.now();
        }
        this.#failing = false;
      } catch (err) {
        this.#failed(err as Error, lost ? 0 : (chunk?.length ?? 0), lost ? 0 : chunkAudio);
      } finally {
        if (chunk) {
          this.#inflightBytes -= chunk.length;
          this.#spare ??= Buffer.from(chunk.buffer, chunk.byteOffset, chunk.buffer.byteLength - chunk.byteOffset);
        }
      }
    });
    return this.#chain;
  }

  async #handle(): Promise<FileHandle> {
    this.#file ??= open(this.path, this.#openMode);
    try {
      return await this.#file;
    } catch (err) {
      this.#file = undefined; // opened again by the next flush
      throw err;
    }
  }

  /**
   * A failed write: its samples, and those queued after them, become silence owed before anything
   * new, so the file keeps its duration and order once the disk takes writes again.
   */
  #failed(err: Error, chunkBytes: number, chunkAudio: number): void {
    this.writeErrors++;
    this.#failures++;
    this.lastError = err;
    this.#failing = true;
    this.#owe(chunkBytes + this.#pendingBytes, chunkAudio + this.#pendingAudio);
    this.#pendingBytes = 0;
    this.#pendingAudio = 0;
  }

  /** `bytes` of the file become owed silence; `audio` samples of them were audio, now lost. */
  #owe(bytes: number, audio: number): void {
    this.#owedSilence += bytes / (2 * this.channels);
    this.lostSamples += audio;
    this.droppedSamples += audio;
  }

  /** Writes what is left; never rejects (a failing disk leaves the file as long as it could be written). */
  async close(): Promise<void> {
    if (this.#closed) return this.#chain;
    this.#closing = true;
    await this.flush();
    // Whatever silence is still owed is written now, in pieces if it is long, unless the disk fails.
    while (this.#owedSilence > 0 && !this.#failing) await this.flush();
    this.#closed = true;
    await this.#chain;
    if (this.#file) {
      try {
        await (await this.#file).close();
      } catch {
        // never opened: nothing to release
      }
    }
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
