/** `openrtms inspect DIR`: what a recording directory holds (durations, participants, gaps, files). */
import { existsSync, readFileSync, readdirSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, helpText, parseCommand, type CommandSpec } from './args.js';
import { forTerminal } from '../util/terminal.js';

export const spec: CommandSpec = {
  name: 'inspect',
  summary: 'summary of a recording directory',
  usage: 'openrtms inspect DIR [--json]',
  positionals: { name: 'DIR (a stream recording, a recordings folder or a data dir)', required: true },
  flags: { json: { type: 'boolean', help: 'print JSON instead of text' } },
  examples: ['openrtms inspect ./data', 'openrtms inspect ./data/recordings/4f0c…', 'openrtms inspect ./data --json'],
};

interface Manifest {
  rtms_stream_id: string;
  meeting_uuid: string;
  product: string;
  started_at: string;
  stopped_at: string | null;
  complete: boolean;
  participants: { user_id: unknown; user_name: string }[];
  gaps: { track: string; atMs: number; durationMs: number }[];
  counts: Record<string, number>;
}

/** Duration of a 16-bit PCM WAV from its header (44 bytes read, not the whole file). */
function wavSeconds(path: string): number | undefined {
  const fd = openSync(path, 'r');
  try {
    const h = Buffer.alloc(44);
    if (readSync(fd, h, 0, 44, 0) < 44 || h.toString('ascii', 0, 4) !== 'RIFF') return undefined;
    const byteRate = h.readUInt32LE(28);
    const dataBytes = Math.min(h.readUInt32LE(40), statSync(path).size - 44);
    return byteRate ? dataBytes / byteRate : undefined;
  } finally {
    closeSync(fd);
  }
}

function files(dir: string, base = dir): { path: string; bytes: number; seconds?: number }[] {
  const out: { path: string; bytes: number; seconds?: number }[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(full, base));
    else out.push({ path: full.slice(base.length + 1), bytes: statSync(full).size, ...(e.name.endsWith('.wav') ? { seconds: wavSeconds(full) } : {}) });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

function streamDirs(dir: string): string[] {
  if (existsSync(join(dir, 'manifest.json'))) return [dir];
  const recordings = existsSync(join(dir, 'recordings')) ? join(dir, 'recordings') : dir;
  return readdirSync(recordings, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(recordings, e.name, 'manifest.json')))
    .map((e) => join(recordings, e.name));
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals, help } = parseCommand(spec, argv);
  if (help) {
    console.log(helpText(spec));
    return 0;
  }
  const dir = resolve(positionals[0]);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`inspect: "${positionals[0]}" is not a directory`);
  const dirs = streamDirs(dir);
  if (dirs.length === 0) throw new UsageError(`inspect: no recordings under "${positionals[0]}" (expected manifest.json, or recordings/<stream>/manifest.json)`);
  const reports = dirs.map((d, i) => {
    if (dirs.length > 20 && process.stderr.isTTY) process.stderr.write(`\rscanning ${i + 1}/${dirs.length}`);
    const manifest = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')) as Manifest;
    const list = files(d);
    const mixed = list.find((f) => f.path === join('audio', 'mixed.wav'));
    return { dir: d, manifest, files: list, duration_s: mixed?.seconds };
  });
  if (dirs.length > 20 && process.stderr.isTTY) process.stderr.write('\n');
  if (values.json) {
    console.log(JSON.stringify(reports.map((r) => ({ dir: r.dir, duration_s: r.duration_s, ...r.manifest, files: r.files })), null, 2));
    return 0;
  }
  for (const { dir: d, manifest: m, files: list, duration_s } of reports) {
    const gapMs = m.gaps.reduce((n, g) => n + g.durationMs, 0);
    console.log(`${m.rtms_stream_id}  (${m.product}, meeting ${m.meeting_uuid})${m.complete ? '' : '  INCOMPLETE'}`);
    console.log(`  ${d}`);
    console.log(`  ${m.started_at} → ${m.stopped_at ?? '…'}   audio ${duration_s !== undefined ? `${duration_s.toFixed(2)} s` : 'none'}`);
    console.log(`  participants: ${m.participants.map((p) => forTerminal(p.user_name || String(p.user_id))).join(', ') || 'none seen'}`);
    console.log(`  gaps: ${m.gaps.length ? `${m.gaps.length} totalling ${(gapMs / 1000).toFixed(2)} s` : 'none'}`);
    console.log(`  frames: ${Object.entries(m.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    for (const f of list) console.log(`    ${f.path.padEnd(28)} ${String(Math.round(f.bytes / 1024)).padStart(7)} KB${f.seconds !== undefined ? `  ${f.seconds.toFixed(2)} s` : ''}`);
  }
  return 0;
}
