// The web app mounted on an existing node:http server (how src/server/app.ts can hand it every
// request it does not answer itself): REST, the dashboard and the WebSocket upgrade all work.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { LiveBus } from '../../src/live/bus.js';
import { LiveSink } from '../../src/live/sink.js';
import { OpenRtmsMetrics } from '../../src/metrics/metrics.js';
import { createWebApp } from '../../src/server/web.js';
import { openStore } from '../../src/store/open.js';

describe('web app on an existing node:http server', () => {
  it('answers what the host server passes on, including WebSocket upgrades', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-mount-'));
    const store = await openStore({ dataDir: dir, databaseUrl: null });
    const bus = new LiveBus();
    const metrics = new OpenRtmsMetrics({ bus, defaultMetrics: false });
    let web: ReturnType<typeof createWebApp> | undefined;
    const server = createServer((req, res) => {
      if (req.url === '/webhook') return void res.writeHead(200).end('hook');
      web!.handle(req, res);
    });
    web = createWebApp({ store, bus, metrics, server, dataDir: dir });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      assert.equal(await (await fetch(`${base}/webhook`)).text(), 'hook');
      assert.deepEqual(await (await fetch(`${base}/api/streams`)).json(), { streams: [] });
      assert.match(await (await fetch(`${base}/`)).text(), /<title>openrtms/);
      assert.match(await (await fetch(`${base}/metrics`)).text(), /openrtms_active_streams/);
      assert.equal((await fetch(`${base}/nope`)).status, 404);
      const ws = new WebSocket(`${base.replace('http', 'ws')}/api/live`);
      const got: { type: string }[] = [];
      ws.on('message', (d) => got.push(JSON.parse(String(d))));
      await new Promise((r) => ws.once('open', r));
      const sink = new LiveSink(bus, { rtmsStreamId: 'x', product: 'meeting', meetingUuid: 'm', startedAt: 0 });
      sink.onTranscript({ userId: 1, userName: 'A', text: 'hi', timestamp: 1, receivedAt: 1 });
      const deadline = Date.now() + 2000;
      while (!got.some((m) => m.type === 'transcript') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(got.map((m) => m.type), ['hello', 'stream', 'transcript']);
      ws.close();
      await sink.close();
    } finally {
      await web.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      metrics.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
