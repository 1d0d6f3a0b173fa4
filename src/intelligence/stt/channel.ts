/**
 * One speech-to-text channel: the audio of one speaker (or the mixed audio) of one stream, sent to
 * one provider over one connection at a time.
 *
 * Audio arrives in frames (20 ms) and leaves in chunks of `chunkMs` (fewer, larger messages). Every
 * chunk carries the stream time of its first sample, so a result's time on the connection (ms from
 * the first sample sent on it) maps back to the stream's clock even when the speaker's audio had
 * gaps. Chunks stay held after sending until a final result covers them ("confirmed"); when the
 * connection closes unexpectedly, the unconfirmed chunks are sent again on the next connection,
 * with what arrived meanwhile. Everything held is bounded by `bufferMs`: the oldest goes first, and
 * audio that goes before it was ever sent is lost — counted in `stats.droppedMs`.
 */
import { OpenRtmsError } from '../../errors.js';
import type { SttAdapter, SttConnection, SttConnectionOptions, SttResult } from './types.js';

export interface ChannelResult {
  result: SttResult;
  /** Stream time (ms since epoch) of a time on the connection. */
  toStreamMs(connectionMs: number): number;
}

export interface ChannelStats {
  /** Audio handed to the provider (ms; resent audio counts again). */
  sentMs: number;
  /** Audio never sent because the buffer overflowed while the provider was unreachable (ms). */
  droppedMs: number;
  /** Unconfirmed audio sent again after a reconnect (ms). */
  resentMs: number;
  connects: number;
  reconnects: number;
  failedConnects: number;
  results: number;
}

export interface ChannelOptions {
  adapter: SttAdapter;
  open: Omit<SttConnectionOptions, 'sampleRate'>;
  bufferMs: number;
  /** Audio per message (default 100 ms). */
  chunkMs?: number;
  /** Reconnect backoff: first delay and cap (default 250 ms, 10 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Longest wait of finish() for the last results (default 5 s). */
  finishTimeoutMs?: number;
  onResult(r: ChannelResult): void;
  onWarning?(message: string): void;
}

interface Chunk {
  pcm: Buffer;
  /** Stream time of the first sample (ms since epoch). */
  at: number;
  samples: number;
  /** Position on the current connection (ms from its first sample), once sent on it. */
  connMs: number;
}

type State = 'idle' | 'connecting' | 'open' | 'waiting' | 'finishing' | 'closed';

/** Clock jumps remembered per connection (one per pause in a participant's audio). */
const MAX_MARKS = 100_000;
/** Frames further apart than this from where the chunk being filled ends start a new chunk. */
const JUMP_MS = 40;

export class SttChannel {
  readonly stats: ChannelStats = { sentMs: 0, droppedMs: 0, resentMs: 0, connects: 0, reconnects: 0, failedConnects: 0, results: 0 };
  /** Stream time of the last audio pushed (ms since epoch). */
  lastAt = 0;
  readonly #o: ChannelOptions;
  readonly #rate: number;
  readonly #chunkSamples: number;
  readonly #maxBytes: number;
  #state: State = 'idle';
  #conn?: SttConnection;
  /** Sent on the current connection, not confirmed yet (oldest first). */
  #sent: Chunk[] = [];
  /** Not sent yet (oldest first). */
  #pending: Chunk[] = [];
  #heldBytes = 0;
  /** The chunk being filled by frames. */
  #fill: Int16Array[] = [];
  #fillSamples = 0;
  #fillAt = 0;
  /** Samples sent on the current connection. */
  #connSamples = 0;
  /** Connection ms up to which results are final. */
  #confirmedMs = 0;
  #attempt = 0;
  #timer?: NodeJS.Timeout;
  /** Bumped per connection: callbacks of an old connection are ignored. */
  #generation = 0;
  /** Where the stream's clock jumps on the current connection's gapless timeline. */
  #marks: { connMs: number; at: number }[] = [];
  #connecting = false;
  /** The connection closed unexpectedly while finishing. */
  #lost = false;

  constructor(options: ChannelOptions) {
    this.#o = options;
    this.#rate = options.adapter.sampleRate;
    this.#chunkSamples = Math.max(1, Math.round(((options.chunkMs ?? 100) * this.#rate) / 1000));
    this.#maxBytes = Math.max(this.#chunkSamples * 2, Math.round((options.bufferMs * this.#rate) / 1000) * 2);
  }

  get state(): State {
    return this.#state;
  }

  /** Audio held (unconfirmed + unsent), ms. */
  get heldMs(): number {
    return (this.#heldBytes / 2 / this.#rate) * 1000;
  }

  /** Hot path: mono PCM at the adapter's rate, stamped with the stream time of its first sample. */
  push(pcm: Int16Array, at: number): void {
    if (this.#state === 'closed' || this.#state === 'finishing') return;
    this.lastAt = at;
    if (this.#state === 'idle') this.#connect();
    if (this.#fillSamples > 0) {
      const expected = this.#fillAt + (this.#fillSamples * 1000) / this.#rate;
      if (Math.abs(at - expected) > JUMP_MS) this.#seal();
    }
    if (this.#fillSamples === 0) this.#fillAt = at;
    this.#fill.push(pcm);
    this.#fillSamples += pcm.length;
    if (this.#fillSamples >= this.#chunkSamples) this.#seal();
  }

  /** The chunk being filled becomes a message: sent now when connected, else held. */
  #seal(): void {
    if (this.#fillSamples === 0) return;
    const pcm = Buffer.allocUnsafe(this.#fillSamples * 2);
    let off = 0;
    for (const p of this.#fill) {
      pcm.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), off);
      off += p.byteLength;
    }
    const chunk: Chunk = { pcm, at: this.#fillAt, samples: this.#fillSamples, connMs: 0 };
    this.#fill = [];
    this.#fillSamples = 0;
    this.#heldBytes += pcm.length;
    this.#pending.push(chunk);
    this.#bound();
    if (this.#state === 'open') this.#drain();
  }

  /** Drops the oldest held audio beyond the bound: confirmed-or-not sent audio first (no loss), then unsent (lost). */
  #bound(): void {
    while (this.#heldBytes > this.#maxBytes) {
      const sent = this.#sent.shift();
      if (sent) {
        this.#heldBytes -= sent.pcm.length;
        continue;
      }
      const lost = this.#pending.shift();
      if (!lost) break;
      this.#heldBytes -= lost.pcm.length;
      this.stats.droppedMs += (lost.samples * 1000) / this.#rate;
    }
  }

  #drain(): void {
    const conn = this.#conn!;
    while (this.#pending.length) {
      const c = this.#pending.shift()!;
      c.connMs = (this.#connSamples * 1000) / this.#rate;
      this.#connSamples += c.samples;
      // The connection's timeline is gapless: remember where the stream's clock jumps.
      const last = this.#marks[this.#marks.length - 1];
      if (!last || Math.abs(last.at + (c.connMs - last.connMs) - c.at) > 1) {
        this.#marks.push({ connMs: c.connMs, at: c.at });
        if (this.#marks.length > MAX_MARKS) this.#marks.splice(0, this.#marks.length - MAX_MARKS);
      }
      this.#sent.push(c);
      this.stats.sentMs += (c.samples * 1000) / this.#rate;
      conn.send(c.pcm);
    }
  }

  #connect(): void {
    if (this.#connecting) return;
    this.#connecting = true;
    if (this.#state !== 'finishing') this.#state = 'connecting';
    const gen = ++this.#generation;
    const o = this.#o;
    o.adapter
      .open(
        { ...o.open, sampleRate: this.#rate },
        {
          onResult: (r) => {
            if (gen === this.#generation) this.#result(r);
          },
          onClose: (info) => {
            // A connection that never opened is a failed connect (retried there), not a lost one.
            if (gen === this.#generation && this.#conn) this.#closed(info.expected, info.reason);
          },
          onWarning: (m) => o.onWarning?.(m),
        },
      )
      .finally(() => {
        if (gen === this.#generation) this.#connecting = false;
      })
      .then(
        (conn) => {
          if (gen !== this.#generation || this.#state === 'closed') {
            conn.close();
            return;
          }
          this.#conn = conn;
          this.#connSamples = 0;
          this.#confirmedMs = 0;
          this.#marks = [];
          this.stats.connects++;
          this.#attempt = 0;
          // Unconfirmed audio of the last connection goes first, then what waited.
          if (this.#sent.length) {
            for (const c of this.#sent) this.stats.resentMs += (c.samples * 1000) / this.#rate;
            this.#pending = [...this.#sent, ...this.#pending];
            this.#sent = [];
          }
          if (this.#state !== 'finishing') this.#state = 'open';
          this.#drain();
        },
        (err: unknown) => {
          if (gen !== this.#generation || this.#state === 'closed') return;
          this.stats.failedConnects++;
          o.onWarning?.(`${o.adapter.provider} ${o.open.label}: ${(err as Error)?.message ?? String(err)}`);
          this.#retry();
        },
      );
  }

  #retry(): void {
    if (this.#state === 'closed') return;
    if (this.#state !== 'finishing') this.#state = 'waiting';
    const base = this.#o.backoffMs ?? 250;
    const delay = Math.min(this.#o.maxBackoffMs ?? 10_000, base * 2 ** Math.min(this.#attempt++, 10));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#state === 'waiting' || this.#state === 'finishing') this.#connect();
    }, delay * (0.8 + Math.random() * 0.4));
    this.#timer.unref?.();
  }

  #closed(expected: boolean, reason?: string): void {
    this.#conn = undefined;
    if (expected || this.#state === 'closed') return;
    this.stats.reconnects++;
    this.#o.onWarning?.(`${this.#o.adapter.provider} ${this.#o.open.label}: connection closed unexpectedly${reason ? ` (${reason})` : ''}; reconnecting`);
    if (this.#state === 'finishing') this.#lost = true;
    this.#retry();
  }

  #result(r: SttResult): void {
    this.stats.results++;
    // Mapped while the chunks it covers are still held; confirming drops them afterwards.
    this.#o.onResult({ result: r, toStreamMs: (ms) => this.#toStream(ms) });
    if (r.final) this.#confirm(r.endMs);
  }

  /** Audio up to `ms` on this connection has final results: no need to resend it. */
  #confirm(ms: number): void {
    if (ms <= this.#confirmedMs) return;
    this.#confirmedMs = ms;
    while (this.#sent.length) {
      const c = this.#sent[0];
      if (c.connMs + (c.samples * 1000) / this.#rate > ms) break;
      this.#sent.shift();
      this.#heldBytes -= c.pcm.length;
    }
  }

  /** Connection ms → stream ms, through the last clock jump at or before that instant. */
  #toStream(ms: number): number {
    const marks = this.#marks;
    if (!marks.length) return Date.now();
    let lo = 0;
    let hi = marks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (marks[mid].connMs <= ms) lo = mid;
      else hi = mid - 1;
    }
    return Math.round(marks[lo].at + (ms - marks[lo].connMs));
  }

  /** Sends what is left, the vendor's close message, and waits (bounded) for the last results. */
  async finish(): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'finishing') return;
    const wasIdle = this.#state === 'idle';
    this.#seal();
    if (wasIdle && this.#pending.length === 0) {
      this.#state = 'closed';
      return;
    }
    this.#state = 'finishing';
    const deadline = Date.now() + (this.#o.finishTimeoutMs ?? 5000);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
    for (;;) {
      // Not connected: wait (bounded) for the reconnect in progress so the held audio still goes out.
      while (!this.#conn && Date.now() < deadline) {
        if (!this.#timer && !this.#connecting) this.#connect();
        await sleep(25);
      }
      const conn = this.#conn;
      if (!conn) break;
      this.#drain();
      this.#lost = false;
      await Promise.race([conn.finish().catch(() => {}), sleep(deadline - Date.now())]);
      // The connection died before its last results: what it had not confirmed goes again on a new one.
      if (!this.#lost || Date.now() >= deadline) break;
    }
    const left = [...this.#pending, ...(this.#lost ? this.#sent : [])];
    for (const c of left) this.stats.droppedMs += (c.samples * 1000) / this.#rate;
    this.#pending = [];
    this.close();
  }

  /** Abrupt end. Idempotent. */
  close(): void {
    if (this.#state === 'closed' && !this.#conn) return;
    this.#state = 'closed';
    this.#generation++;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const conn = this.#conn;
    this.#conn = undefined;
    conn?.close();
    this.#sent = [];
    this.#pending = [];
    this.#heldBytes = 0;
  }
}

/** The error adapters reject `open()` with. */
export function connectFailed(provider: string, why: string, cause?: unknown): OpenRtmsError {
  return new OpenRtmsError('STT_CONNECT_FAILED', `${provider}: cannot connect (${why})`, { provider }, cause === undefined ? undefined : { cause });
}
