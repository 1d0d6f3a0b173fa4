import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RtmsClient } from '../../src/client/index.js';
import { verifyWebhook } from '../../src/protocol/index.js';

const env = { ...process.env, ZM_RTMS_CLIENT: 'cli-client', ZM_RTMS_SECRET: 'cli-secret', ZOOM_SECRET_TOKEN: 'cli-token' };

function cli(args: string[], extraEnv: NodeJS.ProcessEnv = env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: extraEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('openrtms emulate', () => {
  it('bad input: one line naming the flag, exit 2', async () => {
    for (const args of [['emulate'], ['emulate', '--webhook-url', 'http://x', '--meetings', 'many'], ['emulate', '--webhook-url', 'http://x', '--fault', 'boom@1s'], ['emulate', '--nope']]) {
      const r = await cli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    const r = await cli(['emulate', '--webhook-url', 'http://127.0.0.1:9/x'], { PATH: process.env.PATH });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /ZM_RTMS_CLIENT/);
  });

  it('--help shows examples', async () => {
    const r = await cli(['emulate', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:/);
  });

  it('--json: plays to a receiver that joins, prints one summary object', async () => {
    const clients: RtmsClient[] = [];
    const seen = new Set<string>();
    let badSignatures = 0;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        if (!verifyWebhook('cli-token', raw, req.headers['x-zm-signature'] as string, req.headers['x-zm-request-timestamp'] as string).ok) badSignatures++;
        res.writeHead(200).end();
        const body = JSON.parse(raw.toString());
        if (!String(body.event).endsWith('rtms_started') || seen.has(body.payload.rtms_stream_id)) return;
        seen.add(body.payload.rtms_stream_id);
        const c = new RtmsClient({ clientId: 'cli-client', clientSecret: 'cli-secret' });
        clients.push(c);
        c.join(body.payload).catch(() => {});
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
    const r = await cli(['emulate', '--webhook-url', url, '--port', '0', '--meetings', '2', '--product', 'meeting,session', '--duration', '2', '--fast', '--json', '--fault', 'duplicate-webhook:2']);
    server.close();
    for (const c of clients) await c.close();
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const s = JSON.parse(lines[0]);
    for (const key of ['streams', 'sent', 'missed', 'webhooks', 'connections', 'keepalive', 'faults']) assert.ok(key in s, key);
    assert.equal(s.streams, 2);
    assert.equal(s.sent.audio, 200);
    assert.equal(s.missed.audio, 0);
    assert.equal(s.webhooks.sent, 8);
    assert.deepEqual([s.connections.signaling, s.connections.kicked, s.connections.rejected_signature], [2, 0, 0]);
    assert.equal(badSignatures, 0);
  });
});
