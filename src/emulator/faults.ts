/**
 * Fault specs of `openrtms emulate --fault SPEC` (see ARCHITECTURE.md), parsed with clear errors.
 *   drop-signaling@T  drop-media@T  stall@T[:D]  kick@T  malformed@T  restart@T[:D]  pause@T[:D]
 *   duplicate-webhook:N  webhook-delay:MS  out-of-order
 */
import { OpenRtmsError } from '../errors.js';

export type TimedFaultKind = 'drop-signaling' | 'drop-media' | 'stall' | 'kick' | 'malformed' | 'restart' | 'pause';

export type Fault =
  | { kind: TimedFaultKind; spec: string; atMs: number; durationMs: number }
  | { kind: 'duplicate-webhook'; spec: string; count: number }
  | { kind: 'webhook-delay'; spec: string; delayMs: number }
  | { kind: 'out-of-order'; spec: string };

const TIMED: readonly TimedFaultKind[] = ['drop-signaling', 'drop-media', 'stall', 'kick', 'malformed', 'restart', 'pause'];
// pause: a user pauses the app at T for D (STREAM/SESSION_STATE PAUSED, then RESUMED), as Zoom allows since July 2026.
const DEFAULT_DURATION: Partial<Record<TimedFaultKind, number>> = { stall: 70_000, restart: 5_000, pause: 10_000 };

/** Faults after which a well-behaved client is expected to be streaming again. */
export const RECOVERABLE: ReadonlySet<string> = new Set(['drop-signaling', 'drop-media', 'stall', 'malformed', 'restart', 'pause']);

function duration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2] ?? 's';
  return Math.round(Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000));
}

function bad(spec: string, expected: string): never {
  throw new OpenRtmsError('CONFIG_INVALID', `--fault "${spec}": ${expected}`);
}

export function parseFault(spec: string): Fault {
  const s = spec.trim();
  if (s === 'out-of-order') return { kind: 'out-of-order', spec: s };
  let m = /^duplicate-webhook:(\d+)$/.exec(s);
  if (m) {
    const count = Number(m[1]);
    if (count < 1 || count > 20) bad(s, 'expected duplicate-webhook:N with N from 1 to 20');
    return { kind: 'duplicate-webhook', spec: s, count };
  }
  m = /^webhook-delay:(\d+)$/.exec(s);
  if (m) return { kind: 'webhook-delay', spec: s, delayMs: Number(m[1]) };
  m = /^([a-z-]+)@([^:]+)(?::(.+))?$/.exec(s);
  if (m && (TIMED as readonly string[]).includes(m[1])) {
    const kind = m[1] as TimedFaultKind;
    const atMs = duration(m[2]);
    if (atMs === undefined) bad(s, `time "${m[2]}" is not a duration such as 10s or 500ms`);
    let durationMs = DEFAULT_DURATION[kind] ?? 0;
    if (m[3] !== undefined) {
      if (!(kind in DEFAULT_DURATION)) bad(s, `${kind} takes no duration`);
      const d = duration(m[3]);
      if (d === undefined || d <= 0) bad(s, `duration "${m[3]}" is not a positive duration such as 5s`);
      durationMs = d;
    }
    return { kind, spec: s, atMs, durationMs };
  }
  return bad(
    s,
    'expected one of drop-signaling@T, drop-media@T, stall@T[:D], kick@T, malformed@T, restart@T[:D], pause@T[:D], duplicate-webhook:N, webhook-delay:MS, out-of-order',
  );
}
