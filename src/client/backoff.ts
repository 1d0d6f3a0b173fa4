/** Exponential backoff with jitter for reconnect attempts. Pure: pass a random source for tests. */
import { DUPLICATE_SIGNAL_RETRY } from '../protocol/index.js';
import type { ReconnectOptions } from './types.js';

export const DEFAULT_RECONNECT: Required<ReconnectOptions> = {
  enabled: true,
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitter: 0.3,
  maxAttempts: 20,
};

/** Delay before reconnect attempt `attempt` (1-based). */
export function backoffDelay(attempt: number, policy: Required<ReconnectOptions>, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}

/** Delay before retry `n` (1-based) after status 8 (duplicate signal request): 1.5 s, 3 s, 6 s, as Zoom's library. */
export function duplicateSignalDelay(n: number): number {
  return DUPLICATE_SIGNAL_RETRY.initialDelayMs * DUPLICATE_SIGNAL_RETRY.multiplier ** Math.max(0, n - 1);
}
