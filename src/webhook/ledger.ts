/**
 * Remembers which streams started and stopped, so Zoom's retried webhooks (duplicates, or a
 * start that arrives after its stop) never open a second connection. Bounded: the oldest
 * entries are forgotten first.
 */
export type StreamFate = 'started' | 'stopped';

export class StreamLedger {
  #fates = new Map<string, StreamFate>();
  constructor(private readonly capacity = 100_000) {}

  /** Records a start; returns false when the stream was already started or has stopped. */
  start(streamId: string): boolean {
    if (this.#fates.has(streamId)) return false;
    this.#set(streamId, 'started');
    return true;
  }

  /** Records a stop; returns false when it was already stopped. */
  stop(streamId: string): boolean {
    if (this.#fates.get(streamId) === 'stopped') return false;
    this.#set(streamId, 'stopped');
    return true;
  }

  fate(streamId: string): StreamFate | undefined {
    return this.#fates.get(streamId);
  }

  #set(id: string, fate: StreamFate): void {
    this.#fates.delete(id);
    this.#fates.set(id, fate);
    if (this.#fates.size > this.capacity) this.#fates.delete(this.#fates.keys().next().value!);
  }
}
