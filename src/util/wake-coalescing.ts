/**
 * Wake-up coalescing for a process that reads many small frames from many sockets.
 *
 * A server holding N RTMS streams gets a frame on some socket every 20/N ms. Left alone, the event
 * loop goes to sleep in epoll after each few frames and is woken again at once: thousands of
 * wake-ups a second, each a pair of context switches that costs more than the frames it reads (on
 * the 2-core VMs we measure on, a fifth of a bare client's CPU). With coalescing on, a loop turn that
 * read frames is followed by a short sleep, up to `periodMs` after the previous turn began, so the
 * next epoll returns every socket that became readable meanwhile in one go: at most 1000 / periodMs
 * turns a second while frames flow, and no change at all when the process is idle (a turn without
 * frames schedules no sleep) or busy (a turn longer than the period sleeps 0).
 *
 * The price is latency: a frame can wait up to `periodMs` before it is read; timers and HTTP
 * requests likewise. It is process-wide (there is one event loop), so it is switched on by the
 * server runtime and not by a client; readers of frames call {@link noteFrameRead}.
 */

/**
 * What `serve` and `worker` use unless OPENRTMS_WAKE_COALESCING_MS says otherwise: at most 200 loop
 * turns a second while frames flow, and at most 5 ms added to a frame's way to the sinks.
 */
export const DEFAULT_WAKE_COALESCING_MS = 5;

/** Longest period accepted: beyond it the added latency would be felt by live consumers. */
export const MAX_WAKE_COALESCING_MS = 100;

const sleeper = new Int32Array(new SharedArrayBuffer(4));
let periodMs = 0;
let scheduled = false;
/** When the current loop turn's work began: the end of the previous sleep. */
let turnStart = 0;
/** Owners that switched coalescing on, newest last; the newest one's period applies. */
const owners: number[] = [];

/** What coalescing has done since the process started. */
export const wakeCoalescingStats = { sleeps: 0, sleptMs: 0 };

/** The period in force (0: off). */
export function wakeCoalescingPeriod(): number {
  return periodMs;
}

/**
 * Turns coalescing on with the given period (0 leaves it as it is); returns the function that
 * turns this request off again (idempotent). Requests nest: the newest one in force applies.
 */
export function coalesceWakeups(ms: number): () => void {
  if (!(ms > 0)) return () => {};
  if (ms > MAX_WAKE_COALESCING_MS) throw new RangeError(`wake-up coalescing period must be at most ${MAX_WAKE_COALESCING_MS} ms, got ${ms}`);
  owners.push(ms);
  periodMs = ms;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    owners.splice(owners.lastIndexOf(ms), 1);
    periodMs = owners.length ? owners[owners.length - 1] : 0;
  };
}

/** Called for every frame read from a socket: the turn that read it ends with a short sleep. Costs a branch when off. */
export function noteFrameRead(): void {
  if (scheduled || periodMs === 0) return;
  scheduled = true;
  // The check phase runs after this turn's I/O callbacks, before the loop polls again.
  setImmediate(sleepOut).unref();
}

function sleepOut(): void {
  scheduled = false;
  const now = performance.now();
  // turnStart is in the past, so this is at most the period (and at most 0 once coalescing is off).
  const wait = turnStart + periodMs - now;
  if (wait > 0.1) {
    Atomics.wait(sleeper, 0, 0, wait);
    const after = performance.now();
    wakeCoalescingStats.sleeps++;
    wakeCoalescingStats.sleptMs += after - now;
    turnStart = after;
  } else turnStart = now;
}
