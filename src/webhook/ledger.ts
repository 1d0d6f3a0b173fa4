/**
 * Remembers which streams started and stopped, and with which signaling URL, so a webhook for a
 * stream already known is read as Zoom means it ("Failover and reconnection"):
 * - a start with the same `server_urls` is one of Zoom's retries: ignored;
 * - a start with new `server_urls` for a live stream is an RTMS server failure: reconnect there;
 * - a start after a stop is a late retry (ignored) unless that stop asked for a full restart
 *   (stop reasons 10–19, 24) and the start names a new server: then the stream starts again.
 * Bounded: the oldest entries are forgotten first.
 */
import { RESTART_STOP_REASONS } from '../protocol/index.js';

export type StreamFate = 'started' | 'stopped';

/** How a start webhook relates to what is known of its stream. */
export type StartVerdict = 'new' | 'duplicate' | 'server-failover' | 'after-stop' | 'restart';

interface Entry {
  fate: StreamFate;
  serverUrls?: string;
  /** The stop asked for a full restart (stop reason 10–19 or 24). */
  restartable?: boolean;
}

export class StreamLedger {
  #entries = new Map<string, Entry>();
  constructor(private readonly capacity = 100_000) {}

  /** Classifies a start webhook and records it when it (re)starts or moves the stream. */
  start(streamId: string, serverUrls?: string): StartVerdict {
    const e = this.#entries.get(streamId);
    if (!e) {
      this.#set(streamId, { fate: 'started', serverUrls });
      return 'new';
    }
    if (e.fate === 'started') {
      if (!serverUrls || serverUrls === e.serverUrls) return 'duplicate';
      this.#set(streamId, { fate: 'started', serverUrls });
      return 'server-failover';
    }
    if (e.restartable && serverUrls && serverUrls !== e.serverUrls) {
      this.#set(streamId, { fate: 'started', serverUrls });
      return 'restart';
    }
    return 'after-stop';
  }

  /** Records a stop; returns false when it was already stopped. */
  stop(streamId: string, stopReason?: number): boolean {
    const e = this.#entries.get(streamId);
    if (e?.fate === 'stopped') return false;
    this.#set(streamId, { fate: 'stopped', serverUrls: e?.serverUrls, restartable: stopReason !== undefined && RESTART_STOP_REASONS.has(stopReason) });
    return true;
  }

  fate(streamId: string): StreamFate | undefined {
    return this.#entries.get(streamId)?.fate;
  }

  #set(id: string, entry: Entry): void {
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    if (this.#entries.size > this.capacity) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
