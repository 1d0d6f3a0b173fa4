import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../src/store/open.js';

const T0 = Date.UTC(2025, 0, 2, 10, 11, 12);

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'search', ...args], {
      env: { ...process.env, DATABASE_URL: '', OPENRTMS_DATA_DIR: '', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('openrtms search', () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openrtms-search-cli-'));
    const store = await openStore({ dataDir: dir, databaseUrl: null });
    await store.write({
      stream: { rtmsStreamId: 'stream-a', meetingUuid: 'm-a', product: 'meeting', startedAt: T0 },
      transcript: [
        { userId: 1, userName: 'Ann', text: 'the budget review starts now', timestamp: T0 },
        { userId: 2, userName: 'Bob', text: 'unrelated words', timestamp: T0 + 1000 },
      ],
      chat: [{ userId: 3, userName: 'Cy', text: 'budget sheet & notes', timestamp: T0 + 2000 }],
    });
    await store.write({
      stream: { rtmsStreamId: 'stream-b', meetingUuid: 'm-b', product: 'meeting', startedAt: T0 },
      transcript: [{ userId: 4, userName: 'Dee', text: 'another budget', timestamp: T0 + 3000 }],
    });
    await store.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints `timestamp  speaker: text` lines without colour when not on a TTY', async () => {
    const r = await cli(['budget', '--stream', 'stream-a', '--data-dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n').sort();
    assert.deepEqual(lines, ['2025-01-02 10:11:12Z  Ann: the budget review starts now', '2025-01-02 10:11:14Z  Cy (chat): budget sheet & notes']);
    assert.ok(!r.stdout.includes('\u001b['), 'no ANSI codes in a pipe');
  });

  it('--json prints the hits, --limit caps them, OPENRTMS_DATA_DIR is honoured', async () => {
    const r = await cli(['budget', '--json', '--limit', '2'], { OPENRTMS_DATA_DIR: dir });
    assert.equal(r.code, 0, r.stderr);
    const hits = JSON.parse(r.stdout) as { rtmsStreamId: string; snippet: string }[];
    assert.equal(hits.length, 2);
    assert.ok(hits.every((h) => h.snippet.includes('<mark>budget</mark>')));
  });

  it('no match: exit 0 and a note on stderr', async () => {
    const r = await cli(['nothing-like-this', '--data-dir', dir]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no matches/);
  });

  it('--help shows usage and examples', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: openrtms search QUERY/);
    assert.match(r.stdout, /Examples:/);
  });

  it('bad input is one line and exit 2', async () => {
    for (const args of [['budget', '--bogus'], ['budget', '--limit', 'many'], [], ['***'], ['budget', '--stream']]) {
      const r = await cli([...args, '--data-dir', dir].filter((a, i, all) => !(args.length === 0 && i === all.length)));
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^openrtms /);
    }
  });

  it('a missing database is one line and exit 1', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'openrtms-search-empty-'));
    try {
      const r = await cli(['budget', '--data-dir', empty]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /no database at .*openrtms\.db.*\[STORE_NOT_FOUND\]/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
