/** Handlers that record what an adapter reports, and a bounded wait on them, for the cloud STT tests. */
import type { SttHandlers, SttResult } from '../../../src/intelligence/stt/types.js';

export interface Recorded extends SttHandlers {
  results: SttResult[];
  closes: Array<{ expected: boolean; reason?: string; code?: number }>;
  warnings: string[];
  finals(): SttResult[];
}

export function recorder(): Recorded {
  const results: SttResult[] = [];
  const closes: Recorded['closes'] = [];
  const warnings: string[] = [];
  return {
    results,
    closes,
    warnings,
    finals: () => results.filter((r) => r.final),
    onResult: (r) => results.push(r),
    onClose: (info) => closes.push(info),
    onWarning: (m) => warnings.push(m),
  };
}

/** Polls `check` until it holds or `timeoutMs` passes (generous: the machine is shared). */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sends frames paced at `speed`× real time (the sink feeds adapters as audio arrives). */
export async function pace(frames: Buffer[], send: (b: Buffer) => void, frameMs = 20, speed = 10): Promise<void> {
  for (const f of frames) {
    send(f);
    await new Promise((r) => setTimeout(r, frameMs / speed));
  }
}

/** Tolerance of time checks: the recognisers work in 10 ms frames. */
export const TIME_SLACK_MS = 20;
