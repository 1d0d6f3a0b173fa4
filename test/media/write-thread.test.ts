import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedBuffer, writeOnThread } from '../../src/media/write-thread.js';

describe('disk-write thread', () => {
  it('writes a turn\'s writes at their positions, from shared and ordinary buffers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-wt-'));
    const fd = openSync(join(dir, 'f.bin'), 'w');
    try {
      const a = sharedBuffer(4);
      a.write('abcd');
      const pool = Buffer.from('xxEFGHxx'); // a view inside a larger buffer: only its bytes are sent
      const results = await Promise.all([writeOnThread(fd, a, 0), writeOnThread(fd, pool.subarray(2, 6), 4), writeOnThread(fd, Buffer.from('ij'), 8)]);
      assert.deepEqual(results, [4, 4, 2]);
      assert.equal(readFileSync(join(dir, 'f.bin'), 'utf8'), 'abcdEFGHij');
      assert.ok(a.buffer instanceof SharedArrayBuffer);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a failed write rejects with the system error code; the next ones still work', async () => {
    await assert.rejects(writeOnThread(2 ** 30, Buffer.from('x'), 0), (err: NodeJS.ErrnoException) => err.code === 'EBADF');
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-wt-'));
    const fd = openSync(join(dir, 'g.bin'), 'w');
    try {
      assert.equal(await writeOnThread(fd, Buffer.from('ok'), 0), 2);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not keep a finished process alive', () => {
    const script = `import { writeOnThread } from ${JSON.stringify(new URL('../../src/media/write-thread.ts', import.meta.url).href)};
      import { openSync } from 'node:fs';
      const fd = openSync(${JSON.stringify(join(tmpdir(), `openrtms-wt-exit-${process.pid}.bin`))}, 'w');
      console.log(await writeOnThread(fd, Buffer.from('done'), 0));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    rmSync(join(tmpdir(), `openrtms-wt-exit-${process.pid}.bin`), { force: true });
    assert.equal(r.error, undefined, 'exited on its own');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '4');
  });
});
