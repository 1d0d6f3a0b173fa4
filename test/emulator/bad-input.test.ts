import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import fc from 'fast-check';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { RtmsClient } from '../../src/client/index.js';
import { StatusCode, rtmsSignature } from '../../src/protocol/index.js';
import { creds } from '../helpers/harness.js';

let emu: Emulator;
let payload: { meeting_uuid: string; rtms_stream_id: string; server_urls: string };

before(async () => {
  emu = new Emulator({ ...creds, secretToken: 't', scenario: demoScenario(60), onWebhook: () => {}, waitForClientMs: 60_000 });
  await emu.start();
  payload = emu.startPayload(emu.streams[0]) as typeof payload;
});
after(() => emu.close());

/** Opens a socket, sends frames, resolves with the first JSON answer (or null) and the close code. */
function exchange(url: string, frames: (string | Buffer)[], waitMs = 1500): Promise<{ answer: Record<string, unknown> | null; code: number | null }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    let answer: Record<string, unknown> | null = null;
    const timer = setTimeout(() => {
      ws.terminate();
      resolve({ answer, code: null });
    }, waitMs);
    ws.on('open', () => frames.forEach((f) => ws.send(f)));
    ws.on('message', (d) => {
      answer ??= JSON.parse(d.toString());
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve({ answer, code });
    });
    ws.on('error', () => {});
  });
}

const good = () => ({ msg_type: 1, protocol_version: 1, meeting_uuid: payload.meeting_uuid, rtms_stream_id: payload.rtms_stream_id, sequence: 1, signature: rtmsSignature(creds.clientId, creds.clientSecret, payload.meeting_uuid, payload.rtms_stream_id) });

describe('emulator answers bad client input with documented statuses', () => {
  const cases: [string, () => unknown, number][] = [
    ['a bad signature', () => ({ ...good(), signature: 'deadbeef' }), StatusCode.INVALID_SIGNATURE],
    ['no signature', () => ({ ...good(), signature: undefined }), StatusCode.INVALID_SIGNATURE],
    ['an unknown stream', () => ({ ...good(), rtms_stream_id: 'nope' }), StatusCode.INVALID_RTMS_STREAM_ID],
    ['a meeting id that does not match', () => ({ ...good(), meeting_uuid: 'other==' }), StatusCode.INVALID_RTMS_SESSION_ID],
    ['no meeting/session/engagement id', () => ({ ...good(), meeting_uuid: undefined }), StatusCode.INVALID_RTMS_SESSION_ID],
    ['a wrong first message', () => ({ msg_type: 7 }), StatusCode.INVALID_MESSAGE_TYPE],
    ['an unknown msg_type', () => ({ msg_type: 77 }), StatusCode.INVALID_MESSAGE_TYPE],
    ['a string msg_type', () => ({ ...good(), msg_type: '1' }), StatusCode.INVALID_MESSAGE_TYPE],
    ['no msg_type', () => ({ rtms_stream_id: 'x' }), StatusCode.INVALID_MESSAGE_TYPE],
  ];
  for (const [name, msg, status] of cases) {
    it(`signaling: ${name} → status ${status}`, async () => {
      const { answer } = await exchange(payload.server_urls, [JSON.stringify(msg())]);
      assert.equal(answer?.msg_type, 2);
      assert.equal(answer?.status_code, status);
      assert.ok(String(answer?.reason).length > 0, 'the reason explains');
    });
  }

  it('signaling: invalid JSON → INVALID_PAYLOAD', async () => {
    const { answer } = await exchange(payload.server_urls, ['{"msg_type": 1,']);
    assert.equal(answer?.status_code, StatusCode.INVALID_PAYLOAD);
  });

  it('signaling: an oversized frame closes that socket only (1009)', async () => {
    const { code } = await exchange(payload.server_urls, [Buffer.alloc(2 << 20, 0x20)]);
    assert.equal(code, 1009);
  });

  it('media: a data handshake before any signaling connection is closed without a status (the client opens signaling first)', async () => {
    const url = payload.server_urls.replace('/signaling/', '/media/') + '/all';
    const { answer, code } = await exchange(url, [JSON.stringify({ ...good(), msg_type: 3, media_type: 1 })]);
    assert.equal(answer, null);
    assert.equal(code, 1008);
  });

  it('a handshake that omits every optional field is accepted with documented defaults', async () => {
    const minimal = { msg_type: 1, meeting_uuid: payload.meeting_uuid, rtms_stream_id: payload.rtms_stream_id, signature: good().signature };
    const ws = new WebSocket(payload.server_urls);
    const answers: Record<string, unknown>[] = [];
    await new Promise<void>((resolve) => {
      ws.on('open', () => ws.send(JSON.stringify(minimal)));
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString());
        answers.push(m);
        if (m.msg_type !== 2) return;
        const media = new WebSocket((m.media_server as { server_urls: { all: string } }).server_urls.all);
        media.on('open', () => media.send(JSON.stringify({ msg_type: 3, meeting_uuid: minimal.meeting_uuid, rtms_stream_id: minimal.rtms_stream_id, signature: minimal.signature, media_type: 1 })));
        media.on('message', (d2) => {
          answers.push(JSON.parse(d2.toString()));
          media.close();
          resolve();
        });
      });
    });
    ws.close();
    assert.equal(answers[0].status_code, 0);
    const dataResp = answers[1] as { status_code: number; media_params: { audio: Record<string, number> } };
    assert.equal(dataResp.status_code, 0);
    assert.deepEqual(dataResp.media_params.audio, { content_type: 2, sample_rate: 1, channel: 1, codec: 1, data_opt: 1, send_rate: 20 });
  });
});

describe('emulator under random and corrupted frames', () => {
  it('never crashes, and still serves a correct client afterwards', async () => {
    const base = JSON.stringify(good());
    const frame = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.record({ msg_type: fc.integer({ min: -5, max: 40 }), rtms_stream_id: fc.string(), signature: fc.string(), media_type: fc.integer(), media_params: fc.jsonValue() }).map((o) => JSON.stringify(o)),
      fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })).map(([pos, byte]) => {
        const b = Buffer.from(base);
        b[pos] = byte;
        return b;
      }),
    );
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const mediaUrl = payload.server_urls.replace('/signaling/', '/media/') + '/all';
      await fc.assert(
        fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 5 }), fc.boolean(), async (frames, toMedia) => {
          await exchange(toMedia ? mediaUrl : payload.server_urls, frames, 150);
        }),
        { numRuns: 60 },
      );
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    assert.deepEqual(unhandled, []);
    const client = new RtmsClient({ ...creds, media: ['audio'] });
    await client.join(payload);
    assert.equal(client.state, 'ready');
    await client.close();
  });
});
