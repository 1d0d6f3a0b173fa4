import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CLIENT_TO_SERVER, Codec, MsgType, SERVER_TO_CLIENT, bool, int, intOrString, literal, nonEmptyStr, nullable, num, object, oneOf, optional, parseMessage, schemas, str, unknownValue, validateMessage, type Schema } from '../../src/protocol/index.js';

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
  it('requires one of meeting_uuid, webinar_uuid, session_id, engagement_id or call_id in handshakes', () => {
    const e = errorOf('{"msg_type":1,"rtms_stream_id":"s","signature":"x"}');
    assert.match(e.message, /one of meeting_uuid, webinar_uuid, session_id, engagement_id, call_id/);
    for (const f of ['meeting_uuid', 'webinar_uuid', 'session_id', 'engagement_id', 'call_id']) {
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

describe('compiled object checks', () => {
  // The same shape twice: once compiled into one function, once with every field's code removed,
  // which forces the field-by-field check. Both must accept and reject exactly the same values.
  const field = <T,>(s: Schema<T>, compiled: boolean): Schema<T> => (compiled ? s : { expected: s.expected, optional: s.optional, check: s.check });
  const shape = (compiled: boolean) => {
    const f = <T,>(s: Schema<T>) => field(s, compiled);
    return object({
      a: f(str()),
      b: f(optional(nonEmptyStr())),
      c: f(optional(int())),
      d: f(optional(num())),
      e: f(optional(bool())),
      g: f(optional(intOrString())),
      h: f(optional(literal(14))),
      i: f(optional(oneOf(Codec, 'codec'))),
      j: f(optional(nullable(str()))),
      k: f(optional(unknownValue())),
      n: f(optional(object({ x: f(int()), y: f(optional(str())) }))),
    });
  };
  const compiled = shape(true);
  const byField = shape(false);

  it('compiles objects of compilable fields, and media frames are among them', () => {
    assert.ok(compiled.code, 'the test shape compiles');
    assert.equal(byField.code, undefined);
    for (const t of [MsgType.MEDIA_DATA_AUDIO, MsgType.MEDIA_DATA_VIDEO, MsgType.MEDIA_DATA_SHARE, MsgType.MEDIA_DATA_TRANSCRIPT, MsgType.MEDIA_DATA_CHAT, MsgType.KEEP_ALIVE_REQ]) {
      assert.ok(schemas[t].code, `msg_type ${t} has a compiled check`);
    }
  });

  it('accepts and rejects exactly what the field-by-field check does', () => {
    const any = fc.oneof(fc.string(), fc.constant(''), fc.integer(), fc.double(), fc.constantFrom(NaN, Infinity, -0, 1.5), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.constantFrom(14, 1, 2, 3, 4, 99), fc.array(fc.integer(), { maxLength: 2 }), fc.object({ maxDepth: 1 }));
    // A valid object, then one field (or the nested one's) replaced by anything: most values get as far as that field.
    const valid = fc.record(
      { a: fc.string(), b: fc.string({ minLength: 1 }), c: fc.integer(), d: fc.double({ noNaN: true, noDefaultInfinity: true }), e: fc.boolean(), g: fc.oneof(fc.integer(), fc.string()), h: fc.constant(14), i: fc.constantFrom(1, 2, 3, 4), j: fc.oneof(fc.string(), fc.constant(null)), k: any, n: fc.record({ x: fc.integer(), y: fc.string() }, { requiredKeys: ['x'] }) },
      { requiredKeys: ['a'] },
    );
    const keys = ['a', 'b', 'c', 'd', 'e', 'g', 'h', 'i', 'j', 'k', 'n', 'n.x', 'n.y', 'none'] as const;
    const mutated = fc.tuple(valid, fc.constantFrom(...keys), any).map(([o, key, v]) => {
      const copy: Record<string, unknown> = { ...o, n: o.n && { ...o.n } };
      if (key.startsWith('n.')) copy.n = { ...(copy.n as object), [key.slice(2)]: v };
      else if (key !== 'none') copy[key] = v;
      return copy;
    });
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(mutated, any), (v) => {
        const a = compiled.check(v, '');
        assert.deepEqual(a, byField.check(v, ''));
        if (!a) accepted++;
      }),
      { numRuns: 20000 },
    );
    assert.ok(accepted > 2000, `${accepted} accepted values: the generator reaches the accepting path`);
  });

  it('still names the failing field of a media frame', () => {
    const r = validateMessage({ msg_type: 14, content: { user_id: 1, data: 'AAAA', timestamp: 'soon' } });
    assert.equal(r.ok, false);
    assert.match((r as { ok: false; error: Error }).error.message, /field "content\.timestamp" expected number, got "soon"/);
  });
});
