/**
 * Shared command-line parsing for every `openrtms` command: typed flags on top of node:util
 * parseArgs, with one-line usage errors (exit code 2) that name the flag and what it expects.
 */
import { parseArgs } from 'node:util';

/** Bad command-line input. The CLI prints `openrtms: <message>` and exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type FlagSpec =
  | { type: 'string'; short?: string; multiple?: false; default?: string; help: string; placeholder?: string }
  | { type: 'string'; short?: string; multiple: true; help: string; placeholder?: string }
  | { type: 'boolean'; short?: string; help: string };

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: Record<string, FlagSpec>;
  examples: string[];
  /** Whether positional arguments are accepted. */
  positionals?: { name: string; required: boolean };
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  help: boolean;
}

/** Parses argv for a command; throws UsageError on unknown flags or missing values. */
export function parseCommand(spec: CommandSpec, argv: string[]): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, f] of Object.entries(spec.flags)) {
    // node:util parseArgs rejects keys that are present but undefined (`short: undefined`).
    options[name] = { type: f.type };
    if (f.short !== undefined) options[name].short = f.short;
    if (f.type === 'string' && f.multiple !== undefined) options[name].multiple = f.multiple;
    if (f.type === 'string' && !f.multiple && f.default !== undefined) options[name].default = f.default;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${spec.name}: ${(err as Error).message.split('\n')[0]} (see: openrtms ${spec.name} --help)`);
  }
  const help = parsed.values.help === true;
  if (!help && !spec.positionals && parsed.positionals.length > 0) {
    throw new UsageError(`${spec.name}: unexpected argument "${parsed.positionals[0]}" (see: openrtms ${spec.name} --help)`);
  }
  if (!help && spec.positionals?.required && parsed.positionals.length === 0) {
    throw new UsageError(`${spec.name}: missing ${spec.positionals.name} (see: openrtms ${spec.name} --help)`);
  }
  return { values: parsed.values as Parsed['values'], positionals: parsed.positionals, help };
}

/** The --help text of a command, with examples. */
export function helpText(spec: CommandSpec): string {
  const lines = [`openrtms ${spec.name} — ${spec.summary}`, '', `Usage: ${spec.usage}`, '', 'Options:'];
  const rows = Object.entries(spec.flags).map(([name, f]) => {
    const short = f.short ? `-${f.short}, ` : '    ';
    const arg = f.type === 'string' ? ` ${f.placeholder ?? 'VALUE'}` : '';
    const def = f.type === 'string' && !f.multiple && f.default !== undefined ? ` (default: ${f.default})` : '';
    return [`  ${short}--${name}${arg}`, `${f.help}${def}`];
  });
  rows.push(['  -h, --help', 'show this help']);
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  for (const [left, right] of rows) lines.push(left.padEnd(width) + right);
  if (spec.examples.length) {
    lines.push('', 'Examples:');
    for (const e of spec.examples) lines.push(`  ${e}`);
  }
  return lines.join('\n');
}

/** A positive integer flag value, or UsageError naming the flag. */
export function intFlag(name: string, value: unknown, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, got "${String(value)}"`);
  }
  return n;
}

/** A duration such as `10s`, `500ms`, `2m` or a bare number of seconds; returns milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * factor);
}

/** A duration flag (seconds by default), or UsageError naming the flag. */
export function durationFlag(name: string, value: unknown): number {
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined) throw new UsageError(`--${name}: expected a duration such as 30, 30s, 500ms or 2m, got "${String(value)}"`);
  return ms;
}

/** One of the allowed words, or UsageError naming the flag. */
export function choiceFlag<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${name}: expected one of ${choices.join(', ')}, got "${String(value)}"`);
}
