/**
 * Periodic jobs with the same period, run from one timer in one turn of the event loop. Every
 * recording flushing on the same tick lets the disk-write thread take all their writes as one batch,
 * and a thousand streams cost one timer instead of a thousand. The timer does not keep the process alive.
 */
const clocks = new Map<number, { jobs: Set<() => void>; timer: NodeJS.Timeout }>();

/** Runs `job` every `ms` (with the other jobs of that period) until the returned function is called. */
export function everyShared(ms: number, job: () => void): () => void {
  let clock = clocks.get(ms);
  if (!clock) {
    const jobs = new Set<() => void>();
    const timer = setInterval(() => {
      for (const j of jobs) {
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
    clocks.set(ms, (clock = { jobs, timer }));
  }
  const mine = clock;
  mine.jobs.add(job);
  return () => {
    if (!mine.jobs.delete(job) || mine.jobs.size) return;
    clearInterval(mine.timer);
    if (clocks.get(ms) === mine) clocks.delete(ms);
  };
}
