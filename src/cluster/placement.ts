/**
 * Placement: which live worker should own each stream nobody owns. Pure and deterministic, so every
 * worker computes the same answer from the same view of the cluster and claims only its own share;
 * the atomic claim in the KV bucket settles any disagreement between slightly different views.
 *
 * Greedy by load: streams are taken in key order and each goes to the least loaded worker with room
 * (`load < maxStreams`); ties are broken by a hash of stream and worker, so equal workers share evenly.
 */

export interface WorkerLoad {
  id: string;
  /** Streams it owns now. */
  load: number;
  maxStreams: number;
}

/** FNV-1a, 32 bit: a cheap, stable tie-breaker. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const prefer = (stream: string) => (a: WorkerLoad, b: WorkerLoad) => a.load - b.load || fnv1a(`${stream}|${a.id}`) - fnv1a(`${stream}|${b.id}`) || (a.id < b.id ? -1 : 1);

/** Assigns each unowned stream to a worker (streams that fit nowhere are left out). */
export function placeStreams(unowned: readonly string[], workers: readonly WorkerLoad[]): Map<string, string> {
  const loads = workers.map((w) => ({ ...w }));
  const out = new Map<string, string>();
  for (const stream of [...unowned].sort()) {
    const candidates = loads.filter((w) => w.load < w.maxStreams);
    if (!candidates.length) break;
    const best = candidates.sort(prefer(stream))[0];
    out.set(stream, best.id);
    best.load++;
  }
  return out;
}

/** Where `workerId` stands among the workers with room for `stream` (0 = first choice; -1 = no room). */
export function rankFor(stream: string, workers: readonly WorkerLoad[], workerId: string): number {
  return workers
    .filter((w) => w.load < w.maxStreams)
    .sort(prefer(stream))
    .findIndex((w) => w.id === workerId);
}
