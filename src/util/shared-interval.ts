/**
 * Periodic jobs with the same period, run from one timer in one turn of the event loop. Every
 * recording flushing on the same tick lets the disk-write thread take all their writes as one batch,
 * and a thousand streams cost one timer instead of a thousand. The timer does not keep the process alive.
 */
const clocks = new Map<number, Set<() => void>>();
const timers = new Map<number, NodeJS.Timeout>();

/** Runs `job` every `ms` (with the other jobs of that period) until the returned function is called. */
export function everyShared(ms: number, job: () => void): () => void {
  let jobs = clocks.get(ms);
  if (!jobs) {
    const set = new Set<() => void>();
    jobs = set;
    clocks.set(ms, set);
    const timer = setInterval(() => {
      for (const j of set) {
        try {
          j();
        } catch (err) {
          queueMicrotask(() => {
            throw err; // as uncaught as it would be from its own timer, without stopping the others
          });
        }
      }
    }, ms);
    timer.unref();
    timers.set(ms, timer);
  }
  const mine = jobs;
  mine.add(job);
  return () => {
    if (!mine.delete(job) || mine.size) return;
    clearInterval(timers.get(ms));
    timers.delete(ms);
    clocks.delete(ms);
  };
}
