// The first five minutes: a clean clone, the README's two commands, a dashboard that answers and a
// recording on disk. Slow (npm ci compiles better-sqlite3), so it runs once per suite, not nested.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const nested = process.env.OPENRTMS_IN_CLONE_TEST === '1';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('from a clean clone, with the README\'s two commands', { skip: nested ? 'already inside the clone test' : false, timeout: 9 * 60_000 }, () => {
  it('npm ci && npm start shows the demo and records; the test tooling runs', async () => {
    const readme = readFileSync('README.md', 'utf8');
    assert.match(readme.split('\n').slice(0, 6).join('\n'), /npm ci && npm start[\s\S]*npm test/, 'the README starts with the two commands');
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-clone-'));
    const env: NodeJS.ProcessEnv = { ...process.env, OPENRTMS_IN_CLONE_TEST: '1', CI: 'true' };
    delete env.NODE_TEST_CONTEXT; // else the inner test runner thinks it is nested and runs nothing
    try {
      execFileSync('git', ['clone', '--quiet', process.cwd(), join(dir, 'repo')]);
      const repo = join(dir, 'repo');
      execFileSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: repo, env, stdio: 'ignore', timeout: 5 * 60_000 });
      const dataDir = join(dir, 'data');
      const demo = spawn(npm, ['start', '--', '--port', '0', '--duration', '5', '--data-dir', dataDir], { cwd: repo, env, detached: true });
      let out = '';
      demo.stdout.on('data', (d) => (out += d));
      demo.stderr.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((r) => demo.on('exit', r));
      const t0 = Date.now();
      while (!/Meetings ended/.test(out) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
      const url = /Dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1];
      assert.ok(url, out);
      assert.equal((await fetch(`${url}/`)).status, 200);
      const { streams } = (await (await fetch(`${url}/api/streams`)).json()) as { streams: unknown[] };
      assert.equal(streams.length, 1);
      // npm start runs node under npm: signal the whole process group.
      process.kill(-demo.pid!, 'SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      const [stream] = readdirSync(join(dataDir, 'recordings'));
      assert.ok(existsSync(join(dataDir, 'recordings', stream, 'audio', 'mixed.wav')), 'a recording appeared');
      // The whole `npm test` on a clean clone is what CI (.ci/run) runs around this very test; here the
      // clone proves its test tooling works: the type-check and the runner on one folder.
      const test = spawn(npm, ['run', 'typecheck', '&&', 'npm', 'run', 'test:file', '--', 'test/protocol'], { cwd: repo, env, shell: true });
      let testOut = '';
      test.stdout.on('data', (d) => (testOut += d));
      test.stderr.on('data', (d) => (testOut += d));
      const code = await new Promise((r) => test.on('exit', r));
      mkdirSync('test-artifacts', { recursive: true });
      writeFileSync('test-artifacts/clone-npm-test.log', testOut);
      const failures = testOut.split('\n').filter((l) => /^\s*not ok/.test(l));
      assert.equal(code, 0, `npm test in the clone failed (full log: test-artifacts/clone-npm-test.log):\n${failures.join('\n')}`);
      assert.match(testOut, /# fail 0/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
