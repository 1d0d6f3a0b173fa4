import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe('examples', () => {
  it('compat-quickstart: Zoom\'s quick start runs against the emulator unchanged but for the import', async () => {
    const port = await freePort();
    const env = { ...process.env, ZM_RTMS_CLIENT: 'qs-client', ZM_RTMS_SECRET: 'qs-secret', ZOOM_SECRET_TOKEN: 'qs-token', ZM_RTMS_PORT: String(port) };
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/compat-quickstart.ts', '--once'], { env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise((r) => child.on('exit', r));
    for (let i = 0; i < 600 && !out.includes('listening'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /listening/, 'the example started');
    const emu = new Emulator({ clientId: 'qs-client', clientSecret: 'qs-secret', secretToken: 'qs-token', webhookUrl: `http://127.0.0.1:${port}/webhook`, scenario: demoScenario(5), fast: true });
    await emu.start();
    const summary = await emu.run();
    await emu.close();
    // Generous: on a loaded 2-core machine the child's TypeScript start-up alone can take seconds.
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))]);
    if (code === 'timeout') child.kill('SIGKILL');
    assert.equal(code, 0, out);
    assert.match(out, /joined \(reason 0\)/);
    assert.match(out, /Ada: Good morning everyone, let's start with the quarterly roadmap\./);
    assert.match(out, new RegExp(`left \\(reason 6\\) after ${summary.sent.audio * 640} bytes of audio`));
  });
});
