/**
 * The search behind `openrtms bench --max`: the most concurrent real-time streams the receiver
 * sustains. A count passes when no frame is lost and the p99 lag (arrival minus the time the frame
 * was due) stays under the limit. The count doubles from the start until one fails (or the cap is
 * reached), then the interval between the last pass and the first failure is halved until it is
 * within `resolution` of the pass.
 */
import type { Phase } from './phase.js';

export interface Criteria {
  /** Lag p99 (ms) a passing phase stays under. */
  maxLagP99Ms: number;
}

export interface Step {
  streams: number;
  pass: boolean;
  /** Why it failed: the figures over the limit, and whether the sender (emulator) was saturated. */
  reason?: string;
  floor?: Phase;
  full: Phase;
}

export interface SearchResult {
  /** Most streams that passed (0 when even the first count failed down to 1). */
  streams: number;
  /** Why the search stopped there: a failure at the next count, or the cap. */
  limited_by: 'lag' | 'loss' | 'sender' | 'cap';
  steps: Step[];
}

/** Sender CPU (cores) from which a failure is put down to the emulator rather than the receiver. */
export const SENDER_SATURATED_CORES = 0.9;

/** Judges one full-pipeline phase against the criteria. */
export function judge(full: Phase, c: Criteria): { pass: boolean; reason?: string; cause?: 'lag' | 'loss' | 'sender' } {
  const issues: string[] = [];
  if (full.frames_lost > 0) issues.push(`${full.frames_lost} frames lost`);
  if (full.latency_ms.p99 >= c.maxLagP99Ms) issues.push(`lag p99 ${full.latency_ms.p99} ms ≥ ${c.maxLagP99Ms} ms`);
  if (!issues.length) return { pass: true };
  const senderBusy = full.sender.cpu_cores >= SENDER_SATURATED_CORES;
  if (senderBusy) issues.push(`sender saturated (${full.sender.cpu_cores} cores)`);
  return { pass: false, reason: issues.join(', '), cause: senderBusy ? 'sender' : full.frames_lost > 0 ? 'loss' : 'lag' };
}

export async function searchMax(
  measure: (streams: number) => Promise<{ floor?: Phase; full: Phase }>,
  o: { start: number; cap: number; resolution?: number; criteria: Criteria; onStep?: (s: Step) => void },
): Promise<SearchResult> {
  const steps: Step[] = [];
  const resolution = o.resolution ?? 0.1;
  let lo = 0;
  let hi = Infinity;
  let cause: SearchResult['limited_by'] = 'cap';
  const tryCount = async (n: number) => {
    const m = await measure(n);
    const verdict = judge(m.full, o.criteria);
    const step: Step = { streams: n, pass: verdict.pass, ...(verdict.reason ? { reason: verdict.reason } : {}), ...(m.floor ? { floor: m.floor } : {}), full: m.full };
    steps.push(step);
    o.onStep?.(step);
    if (verdict.pass) lo = Math.max(lo, n);
    else if (n < hi) {
      hi = n;
      cause = verdict.cause!;
    }
    return verdict.pass;
  };
  let n = Math.min(o.start, o.cap);
  while (hi === Infinity) {
    if (!(await tryCount(n))) break;
    if (n >= o.cap) break;
    n = Math.min(o.cap, n * 2);
  }
  while (hi !== Infinity && hi - lo > Math.max(1, Math.floor(lo * resolution))) {
    await tryCount(Math.round((lo + hi) / 2));
  }
  return { streams: lo, limited_by: hi === Infinity ? 'cap' : cause, steps };
}
