import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CLIENT_TO_SERVER, MsgType, SERVER_TO_CLIENT, parseMessage, validateMessage } from '../../src/protocol/index.js';

function errorOf(raw: string, allowed?: ReadonlySet<number>) {
  const r = parseMessage(raw, { allowed });
  assert.equal(r.ok, false, `expected ${raw} to be rejected`);
  return (r as { ok: false; error: import('../../src/errors.js').ProtocolError }).error;
}

describe('parseMessage', () => {
  it('accepts a keep-alive request', () => {
    const r = parseMessage('{"msg_type":12,"timestamp":1737000000000}');
    assert.deepEqual(r, { ok: true, message: { msg_type: 12, timestamp: 1737000000000 } });
  });
  it('accepts Buffer input', () => {
    assert.equal(parseMessage(Buffer.from('{"msg_type":13,"timestamp":1}')).ok, true);
  });
  it('reports invalid JSON with RTMS_BAD_JSON', () => {
    assert.equal(errorOf('{"msg_type":').code, 'RTMS_BAD_JSON');
  });
  it('reports a non-object with RTMS_BAD_MESSAGE', () => {
    assert.equal(errorOf('[1,2]').code, 'RTMS_BAD_MESSAGE');
    assert.equal(errorOf('null').code, 'RTMS_BAD_MESSAGE');
  });
  it('requires an integer msg_type', () => {
    const e = errorOf('{"msg_type":"12"}');
    assert.equal(e.code, 'RTMS_BAD_MESSAGE');
    assert.equal(e.details.field, 'msg_type');
  });
  it('rejects unknown msg_type values', () => {
    assert.equal(errorOf('{"msg_type":99}').code, 'RTMS_UNKNOWN_MSG_TYPE');
  });
  it('rejects messages sent in the wrong direction', () => {
    assert.equal(errorOf('{"msg_type":1,"meeting_uuid":"m","rtms_stream_id":"s","signature":"x"}', SERVER_TO_CLIENT).code, 'RTMS_UNKNOWN_MSG_TYPE');
    assert.equal(errorOf('{"msg_type":14,"content":{"data":""}}', CLIENT_TO_SERVER).code, 'RTMS_UNKNOWN_MSG_TYPE');
  });
  it('names the failing field and what was expected', () => {
    const e = errorOf('{"msg_type":3,"meeting_uuid":"m","rtms_stream_id":"s","signature":"x","media_type":9,"media_params":{"audio":{"codec":"L16"}}}');
    assert.equal(e.code, 'RTMS_BAD_MESSAGE');
    assert.equal(e.details.field, 'media_params.audio.codec');
    assert.equal(e.details.expected, 'integer');
    assert.match(e.message, /DATA_HAND_SHAKE_REQ: field "media_params.audio.codec" expected integer/);
  });
  it('requires one of meeting_uuid, session_id or engagement_id in handshakes', () => {
    const e = errorOf('{"msg_type":1,"rtms_stream_id":"s","signature":"x"}');
    assert.match(e.message, /one of meeting_uuid, session_id, engagement_id/);
    for (const f of ['meeting_uuid', 'session_id', 'engagement_id']) {
      assert.equal(parseMessage(JSON.stringify({ msg_type: 1, [f]: 'id', rtms_stream_id: 's', signature: 'x' })).ok, true, f);
    }
  });
  it('rejects oversized frames before parsing them', () => {
    const r = parseMessage('x'.repeat(101), { maxFrameBytes: 100 });
    assert.equal(r.ok ? null : r.error.code, 'RTMS_FRAME_TOO_LARGE');
  });
  it('allows extra fields (Zoom adds fields over time)', () => {
    assert.equal(parseMessage('{"msg_type":12,"timestamp":1,"new_field":true}').ok, true);
  });
  it('every msg_type has a schema and a direction', () => {
    for (const t of Object.values(MsgType)) {
      assert.ok(CLIENT_TO_SERVER.has(t) || SERVER_TO_CLIENT.has(t), `msg_type ${t} has no direction`);
    }
  });
});

describe('parser properties', () => {
  it('never throws on arbitrary strings', () => {
    fc.assert(fc.property(fc.string(), (s) => { parseMessage(s); }), { numRuns: 2000 });
  });
  it('never throws on arbitrary JSON values', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => { validateMessage(v); }), { numRuns: 2000 });
  });
  it('never throws on objects with a valid msg_type and random fields', () => {
    const msgType = fc.constantFrom(...Object.values(MsgType));
    const obj = fc.dictionary(fc.constantFrom('content', 'event', 'media_params', 'status_code', 'timestamp', 'events', 'signature', 'meeting_uuid', 'rtms_stream_id', 'media_server', 'user_id'), fc.jsonValue());
    fc.assert(fc.property(msgType, obj, (t, o) => { validateMessage({ ...o, msg_type: t }); }), { numRuns: 5000 });
  });
  it('never throws on corrupted valid frames', () => {
    const valid = JSON.stringify({ msg_type: 14, content: { user_id: 16778240, user_name: 'Ada', data: 'AAAA', timestamp: 1 } });
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), (pos, byte) => {
        const b = Buffer.from(valid);
        b[pos] = byte;
        parseMessage(b);
      }),
      { numRuns: 3000 },
    );
  });
});
