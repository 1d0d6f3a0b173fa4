// Runs every *.test.ts under the given folders (default: test/) with Node's test runner through tsx.
// Node 20's `--test` does not expand globs or pick up .ts files by itself, hence this small walker.
// Files named *.serial.test.ts (heavy end-to-end runs such as the clean-clone test) run afterwards,
// alone, so their load cannot disturb timing-sensitive tests. A closing line sums both phases.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
const files = [];
const walk = (p) => {
  if (statSync(p).isDirectory()) {
    for (const name of readdirSync(p).sort()) walk(join(p, name));
  } else if (p.endsWith('.test.ts')) files.push(p);
};
for (const r of roots.length ? roots : ['test']) walk(r);
if (files.length === 0) {
  console.error('run-tests: no *.test.ts files found under', roots.join(', '));
  process.exit(1);
}
const serial = files.filter((f) => f.endsWith('.serial.test.ts'));
const parallel = files.filter((f) => !f.endsWith('.serial.test.ts'));
const totals = { pass: 0, fail: 0, skipped: 0 };

function phase(list, concurrency) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...passThrough, ...list], { stdio: ['inherit', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      for (const key of Object.keys(totals)) {
        // TAP prints `# pass N`; Node 23+ defaults to the spec reporter, which prints `ℹ pass N`.
        const m = new RegExp(`^(?:# |\u2139 )${key} (\\d+)$`, 'm').exec(tail);
        if (m) totals[key] += Number(m[1]);
      }
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

let code = 0;
if (parallel.length) code = (await phase(parallel, 2)) || code;
if (serial.length) code = (await phase(serial, 1)) || code;
if (parallel.length && serial.length) console.log(`total: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(code);
