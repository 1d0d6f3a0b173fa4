import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { LiveBus } from '../../src/live/bus.js';
import { LiveMediaHub } from '../../src/live/media.js';
import { createWebApp } from '../../src/server/web.js';
import { openStore } from '../../src/store/open.js';

/** The first message (or the close) of a WebSocket. */
function first(ws: WebSocket): Promise<{ status?: number; text?: string; binary?: Buffer }> {
  return new Promise((resolve) => {
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
    ws.once('message', (d, binary) => resolve(binary ? { binary: d as Buffer } : { text: d.toString() }));
    ws.once('error', () => resolve({}));
  });
}

describe('GET /api/live/media', () => {
  it('needs the API token, says when a stream is not live, and sends a live one its description', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-media-route-'));
    const store = await openStore({ dataDir: dir, databaseUrl: null });
    const media = new LiveMediaHub();
    const web = createWebApp({ store, bus: new LiveBus(), media, apiToken: 'tok', dashboard: false });
    const url = (await web.app.listen({ port: 0, host: '127.0.0.1' })).replace('http', 'ws');
    try {
      media.sinkFor({ rtmsStreamId: 'live-1', meetingUuid: 'm', product: 'meeting', startedAt: 0 });
      assert.equal((await first(new WebSocket(`${url}/api/live/media?stream=live-1`))).status, 401);
      const gone = await first(new WebSocket(`${url}/api/live/media?stream=nope&token=tok`));
      assert.equal(JSON.parse(gone.text!).code, 'NOT_LIVE');
      const ws = new WebSocket(`${url}/api/live/media?stream=live-1`, { headers: { cookie: 'openrtms_token=tok' } });
      const hello = JSON.parse((await first(ws)).text!);
      assert.deepEqual([hello.type, hello.streamId, hello.audio.sampleRate], ['media', 'live-1', 16000]);
      const reply = new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));
      ws.send(JSON.stringify({ type: 'audio', mode: 'loud' }));
      assert.equal(JSON.parse(await reply).code, 'BAD_COMMAND');
      ws.close();
    } finally {
      await web.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('openrtms demo', () => {
  it('keeps its data under OPENRTMS_DATA_DIR, like serve', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-demo-dir-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--port', '0', '--duration', '2'], { env: { ...process.env, OPENRTMS_DATA_DIR: dir } });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no Data: line in ${out}`)), 20_000);
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /Data:\s+(\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
      });
      assert.equal(line, dir);
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
