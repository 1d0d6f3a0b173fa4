// Golden tests: the JSON examples of Zoom's RTMS reference (as compiled in shared/PROTOCOL.md),
// kept verbatim in test/fixtures/docs. We must parse exactly these and produce exactly these shapes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CLIENT_TO_SERVER, SERVER_TO_CLIENT, audioParams, buildMediaParams, parseMessage, rtmsSignature, rtmsPayloadSchema, videoParams, deskshareParams, transcriptParams, TranscriptLanguage } from '../../src/protocol/index.js';
import { toTarget } from '../../src/client/index.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/docs/${name}`, import.meta.url), 'utf8'));

describe('golden: documented examples parse', () => {
  it('SIGNALING_HAND_SHAKE_REQ (client → server)', () => {
    assert.equal(parseMessage(JSON.stringify(fixture('signaling-handshake-req.json')), { allowed: CLIENT_TO_SERVER }).ok, true);
  });
  it('SIGNALING_HAND_SHAKE_RESP (server → client)', () => {
    assert.equal(parseMessage(JSON.stringify(fixture('signaling-handshake-resp.json')), { allowed: SERVER_TO_CLIENT }).ok, true);
  });
  it('DATA_HAND_SHAKE_REQ and RESP', () => {
    assert.equal(parseMessage(JSON.stringify(fixture('data-handshake-req.json')), { allowed: CLIENT_TO_SERVER }).ok, true);
    assert.equal(parseMessage(JSON.stringify(fixture('data-handshake-resp.json')), { allowed: SERVER_TO_CLIENT }).ok, true);
  });
  for (const [name, msg] of Object.entries(fixture('misc.json') as Record<string, { msg_type?: number }>)) {
    if (name.startsWith('webhook')) continue;
    it(name, () => {
      const r = parseMessage(JSON.stringify(msg));
      assert.equal(r.ok, true, r.ok ? '' : r.error.message);
    });
  }
  it('the rtms_started webhook payload', () => {
    const body = fixture('misc.json').webhook_rtms_started;
    assert.equal(rtmsPayloadSchema.check(body.payload, 'payload'), undefined);
    assert.deepEqual(toTarget(body.payload), { product: 'meeting', id: '4444AAAiAAAAAiAiAiiAii==', streamId: '609340fc2c3e4c2b9c2d3f8a1f0e6b7d', serverUrls: 'wss://rtms.example/signaling' });
  });
});

describe('golden: we produce exactly the documented shapes', () => {
  it('default audio parameters equal the media parameter definition example', () => {
    assert.deepEqual(audioParams(), fixture('media-params.audio.json'));
  });
  it('the DATA_HAND_SHAKE_REQ media_params example is what our builders produce', () => {
    const want = fixture('data-handshake-req.json').media_params;
    const { data_opt: _, ...share } = deskshareParams();
    assert.deepEqual(
      { ...buildMediaParams(['audio', 'video', 'transcript'], { transcript: { src_language: TranscriptLanguage.ENGLISH } }), deskshare: share },
      want,
    );
    assert.deepEqual(videoParams(), want.video);
    assert.deepEqual(transcriptParams({ src_language: 9 }), want.transcript);
  });
  it('the example signature is HMAC-SHA256(secret, "client_id,meeting_uuid,rtms_stream_id")', () => {
    const req = fixture('signaling-handshake-req.json');
    assert.equal(rtmsSignature('my_client_id', 'my_client_secret', req.meeting_uuid, req.rtms_stream_id), req.signature);
  });
});
