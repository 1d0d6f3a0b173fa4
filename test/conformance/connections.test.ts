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
  it('a second client takes the stream over; the first is told and does not fight back', async () => {
    const { emu, payload } = await emulator();
    const first = new RtmsClient({ ...creds, reconnect: { initialDelayMs: 20 } });
    const second = new RtmsClient({ ...creds });
    try {
      await first.join(payload);
      await second.join(payload);
      const closed = await first.whenClosed();
      assert.equal(closed.reason, 'kicked');
      assert.equal(second.state, 'ready');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(second.state, 'ready', 'the kicked client did not reconnect and kick back');
      assert.equal(emu.counters.connections.kicked, 1);
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
