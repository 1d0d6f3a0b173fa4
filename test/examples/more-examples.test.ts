import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';

const creds = { ZM_RTMS_CLIENT: 'ex-client', ZM_RTMS_SECRET: 'ex-secret', ZOOM_SECRET_TOKEN: 'ex-token' };
const children: ChildProcess[] = [];
const dirs: string[] = [];
after(() => {
  children.forEach((c) => c.kill('SIGKILL'));
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** Starts an example, plays a 5 s emulated meeting to it, returns its output so far. */
async function play(file: string, args: string[], env: Record<string, string> = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', file, String(port), ...args], { env: { ...process.env, ...creds, ...env } });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  for (let i = 0; i < 600 && !/listening|recording|forwarding/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
  const emu = new Emulator({ clientId: creds.ZM_RTMS_CLIENT, clientSecret: creds.ZM_RTMS_SECRET, secretToken: creds.ZOOM_SECRET_TOKEN, webhookUrl: `http://127.0.0.1:${port}/webhook`, scenario: demoScenario(5), fast: true });
  await emu.start();
  const summary = await emu.run();
  await emu.close();
  await new Promise((r) => setTimeout(r, 500));
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  return { out, summary };
}

describe('examples run against the emulator', () => {
  it('transcript-to-console prints who said what', async () => {
    const { out } = await play('examples/transcript-to-console.ts', []);
    assert.match(out, /Ada: Good morning everyone, let's start with the quarterly roadmap\./);
    assert.match(out, /ended \(stream-terminated\)/);
  });

  it('record-a-meeting writes a complete recording', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-ex-'));
    dirs.push(dir);
    const { out } = await play('examples/record-a-meeting.ts', [dir]);
    const [stream] = readdirSync(join(dir, 'recordings'));
    assert.ok(stream, out);
    assert.ok(existsSync(join(dir, 'recordings', stream, 'audio', 'mixed.wav')));
    const manifest = JSON.parse(readFileSync(join(dir, 'recordings', stream, 'manifest.json'), 'utf8'));
    assert.equal(manifest.complete, true);
    assert.equal(manifest.counts.audio, 250);
  });

  it('forward-transcripts posts every line to your endpoint', async () => {
    const received: { speaker: string; text: string }[] = [];
    const sink = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-fwd-'));
    dirs.push(dir);
    const { summary } = await play('examples/forward-transcripts.ts', [], { FORWARD_URL: `http://127.0.0.1:${(sink.address() as { port: number }).port}/t`, OPENRTMS_DATA_DIR: dir });
    sink.close();
    assert.equal(received.length, summary.sent.transcript);
    assert.deepEqual(received[0], { ...received[0], speaker: 'Ada', text: "Good morning everyone, let's start with the quarterly roadmap." });
  });
});
