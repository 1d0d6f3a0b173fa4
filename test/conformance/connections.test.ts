import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { RtmsClient } from '../../src/client/index.js';
import { rtmsSignature } from '../../src/protocol/index.js';
import { creds } from '../helpers/harness.js';

async function emulator(extra: Partial<ConstructorParameters<typeof Emulator>[0]> = {}) {
  const emu = new Emulator({ ...creds, secretToken: 't', scenario: demoScenario(30), onWebhook: () => {}, waitForClientMs: 60_000, ...extra });
  await emu.start();
  return { emu, payload: emu.startPayload(emu.streams[0]) as { meeting_uuid: string; rtms_stream_id: string; server_urls: string } };
}

describe('one connection per stream', () => {
  it("a second client is refused with status 8 while the first holds the stream; it retries on Zoom's schedule and gets in once the first leaves", async () => {
    const { emu, payload } = await emulator();
    const first = new RtmsClient({ ...creds });
    const second = new RtmsClient({ ...creds });
    const refusals: { code: string; delayMs: number }[] = [];
    second.on('reconnecting', (r) => refusals.push({ code: r.error.code, delayMs: r.delayMs }));
    try {
      await first.join(payload);
      const joining = second.join(payload);
      while (refusals.length < 1) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(refusals[0], { code: 'RTMS_DUPLICATE_SIGNAL', delayMs: 1500 });
      assert.equal(first.state, 'ready', 'the holder is not disturbed');
      await first.close(); // the holder goes away; the next retry gets in
      await joining;
      assert.equal(second.state, 'ready');
      assert.equal(emu.counters.connections.rejected_duplicate, refusals.length);
      assert.equal(emu.counters.connections.kicked, 0);
      assert.equal(emu.counters.connections.signaling, 2);
    } finally {
      await first.close();
      await second.close();
      await emu.close();
    }
  });
});

describe('keep-alive supervision', () => {
  it('the emulator drops a client that stops answering KEEP_ALIVE_REQ', async () => {
    const { emu, payload } = await emulator({ keepAliveIntervalMs: 50 });
    try {
      const ws = new WebSocket(payload.server_urls);
      const signature = rtmsSignature(creds.clientId, creds.clientSecret, payload.meeting_uuid, payload.rtms_stream_id);
      let requests = 0;
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      ws.on('open', () => ws.send(JSON.stringify({ msg_type: 1, meeting_uuid: payload.meeting_uuid, rtms_stream_id: payload.rtms_stream_id, signature })));
      ws.on('message', (d) => {
        if (JSON.parse(d.toString()).msg_type === 12) requests++; // never answered
      });
      const t0 = Date.now();
      await closed;
      assert.ok(requests >= 3, `${requests} keep-alive requests were sent`);
      assert.ok(Date.now() - t0 < 2000);
      assert.equal(emu.counters.keepalive.missed, 1);
    } finally {
      await emu.close();
    }
  });
});
