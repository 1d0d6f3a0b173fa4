/**
 * CPU time from Linux's /proc: of a process (`/proc/<pid>/stat`) or of one of its threads
 * (`/proc/<pid>/task/<tid>/stat`). Used by the benchmarks, which also count the threads' time.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of utime and stime (100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The name (comm), user + system CPU time in ms, and that of its reaped children, of a stat file; undefined when it cannot be read (not Linux). */
export function readProcStat(path: string): { name: string; cpuMs: number; childrenCpuMs: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  // The name may hold spaces and parentheses; the fields after its closing one do not.
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  // utime and stime are fields 14 and 15 of proc(5), 11 and 12 after the name; cutime and cstime
  // (the reaped children's: ffmpeg for a restream, say) follow them.
  const ms = (i: number) => (Number(fields[i]) * 1000) / TICKS_PER_SECOND;
  return { name: stat.slice(stat.indexOf('(') + 1, close), cpuMs: ms(11) + ms(12), childrenCpuMs: ms(13) + ms(14) };
}

/**
 * Voluntary context switches of a process or thread (`/proc/<pid>/task/<tid>/status`): how often it
 * went to sleep and was woken again, for an event loop about once per wake-up. Undefined off Linux.
 */
export function readWakeups(statusPath: string): number | undefined {
  let status: string;
  try {
    status = readFileSync(statusPath, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^voluntary_ctxt_switches:\s*(\d+)/m.exec(status);
  return m ? Number(m[1]) : undefined;
}
