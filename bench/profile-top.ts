/**
 * Summarises a V8 CPU profile (from `openrtms bench --cpu-prof DIR`): the functions with the most
 * self time, and self time per source file.
 *
 *   npx tsx bench/profile-top.ts profiles/receiver-full-200-*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
for (const file of args) {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
  // Self time per node from the sample deltas (more exact than hitCount × interval).
  const self = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i + 1] ?? 0));
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const n of prof.nodes) {
    const us = self.get(n.id) ?? 0;
    total += us;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/.*\/(src|node_modules)\//, '$1/');
    const name = n.callFrame.functionName || '(anonymous)';
    const key = url ? `${name}  ${url}:${n.callFrame.lineNumber + 1}` : name;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    const fileKey = url ? url.replace(/^(node_modules\/(@[^/]+\/)?[^/]+)\/.*/, '$1') : `(${name})`;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
  }
  const idle = byFn.get('(idle)') ?? 0;
  const busy = total - idle;
  const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)} %`;
  console.log(`${file}\n  ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (percentages of busy time)\n`);
  console.log('  self time by function');
  for (const [k, us] of [...byFn].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);
  console.log('\n  self time by file');
  for (const [k, us] of [...byFile].filter(([k]) => k !== '((idle))').sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);
  console.log('');
}
