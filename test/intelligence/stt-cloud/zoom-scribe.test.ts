import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createZoomScribeAdapter, zoomScribeJwt } from '../../../src/intelligence/stt/zoom-scribe.js';
import { OpenRtmsError } from '../../../src/errors.js';
import { ZoomScribeStandin } from '../../helpers/stt/scribe-standin.js';
import { toneScript, frames } from '../../helpers/stt/cloud-tones.js';
import { recorder, waitFor, pace, TIME_SLACK_MS } from '../../helpers/stt/cloud-harness.js';

const creds = { apiKey: 'build-key', apiSecret: 'build-secret' };

describe('zoom-scribe adapter against a Scribe live stand-in', () => {
  let standin: ZoomScribeStandin;
  let baseUrl: string;
  before(async () => {
    standin = new ZoomScribeStandin(creds);
    baseUrl = await standin.listen();
  });
  after(() => standin.close());

  it('signs an HS256 JWT the way Zoom verifies it', () => {
    const [h, p] = zoomScribeJwt('k', 's', 600, 1_700_000_000_000).split('.');
    assert.deepEqual(JSON.parse(Buffer.from(h!, 'base64url').toString()), { alg: 'HS256', typ: 'JWT' });
    assert.deepEqual(JSON.parse(Buffer.from(p!, 'base64url').toString()), { iss: 'k', iat: 1_699_999_970, exp: 1_700_000_570 });
  });

  it('opens a live-asr session, streams PCM and maps turn-final transcripts with times and speakers', async () => {
    const adapter = createZoomScribeAdapter({ ...creds, baseUrl });
    assert.equal(adapter.provider, 'zoom-scribe');
    assert.equal(adapter.sampleRate, 16000);
    const script = toneScript(16000);
    const rec = recorder();
    const conn = await adapter.open({ sampleRate: 16000, diarize: true, language: 'de-DE', label: 's1/mixed' }, rec);
    await pace(frames(script.pcm, 16000), (b) => conn.send(b));
    await conn.finish();

    assert.deepEqual(standin.problems, []);
    const session = standin.sessions.at(-1)!;
    assert.equal(session.auth, 'header');
    assert.deepEqual(session.update, { type: 'session.update', language: 'de-DE', audio: { format: 'pcm16' }, transcription: { enable_diarization: true } });
    assert.equal(session.audioBytes, script.pcm.length);
    assert.deepEqual(session.messages, ['session.update', 'session.close'], 'finish() sends session.close');

    const finals = rec.finals();
    assert.equal(rec.results.length, finals.length, 'Scribe live gives final results only');
    assert.equal(finals.length, 2);
    for (const [i, utterance] of script.utterances.entries()) {
      const r = finals[i]!;
      assert.equal(r.text, utterance.map((w) => w.text).join(' ') + '.', 'the speaker tag is stripped from the text');
      assert.equal(r.speaker, utterance[0]!.speaker);
      assert.ok(Math.abs(r.startMs - utterance[0]!.startMs) <= TIME_SLACK_MS, `starts at ${r.startMs}`);
      assert.ok(Math.abs(r.endMs - utterance.at(-1)!.endMs) <= TIME_SLACK_MS, `ends at ${r.endMs}`);
    }
    assert.deepEqual(rec.closes.map((c) => c.expected), [true]);
  });

  it('keeps an idle session alive with silence and removes that silence from result times', async () => {
    const idle = new ZoomScribeStandin({ ...creds, idleCloseMs: 1200 });
    const url = await idle.listen();
    try {
      const rec = recorder();
      const conn = await createZoomScribeAdapter({ ...creds, baseUrl: url, keepAliveAfterMs: 200 }).open({ sampleRate: 16000, diarize: false, label: 's2/u1' }, rec);
      const script = toneScript(16000);
      const all = frames(script.pcm, 16000);
      const half = all.length / 2; // 1.0 s: inside the long pause between the utterances
      await pace(all.slice(0, half), (b) => conn.send(b));
      await new Promise((r) => setTimeout(r, 2000)); // longer than the stand-in's idle limit
      assert.equal(rec.closes.length, 0, 'the keep-alive kept the session open');
      await pace(all.slice(half), (b) => conn.send(b));
      await conn.finish();
      assert.deepEqual(idle.problems, []);
      const session = idle.sessions[0]!;
      assert.ok(session.audioBytes > script.pcm.length, 'keep-alive silence was sent');
      const finals = rec.finals();
      assert.equal(finals.length, 2);
      const second = script.utterances[1]!;
      assert.ok(Math.abs(finals[1]!.startMs - second[0]!.startMs) <= TIME_SLACK_MS, `second turn at ${finals[1]!.startMs}, sent at ${second[0]!.startMs}`);
      assert.equal(finals[1]!.speaker, undefined);
      assert.deepEqual(rec.closes.map((c) => c.expected), [true]);
    } finally {
      await idle.close();
    }
  });

  it('can carry the JWT in the zoom-api-access-token subprotocol', async () => {
    const rec = recorder();
    const conn = await createZoomScribeAdapter({ ...creds, baseUrl, auth: 'subprotocol' }).open({ sampleRate: 16000, diarize: false, label: 's3/u1' }, rec);
    await conn.finish();
    assert.equal(standin.sessions.at(-1)!.auth, 'subprotocol');
    assert.deepEqual(standin.problems, []);
  });

  it('reports an abrupt server close as onClose({expected:false})', async () => {
    const dropper = new ZoomScribeStandin({ ...creds, dropAfterMs: 300 });
    const url = await dropper.listen();
    try {
      const rec = recorder();
      const conn = await createZoomScribeAdapter({ ...creds, baseUrl: url }).open({ sampleRate: 16000, diarize: false, label: 's4/mixed' }, rec);
      await pace(frames(toneScript(16000).pcm, 16000), (b) => conn.send(b));
      await waitFor(() => rec.closes.length > 0, 'onClose');
      assert.equal(rec.closes[0]!.expected, false);
      assert.equal(rec.closes[0]!.code, 1006);
      conn.close();
      assert.equal(rec.closes.length, 1);
    } finally {
      await dropper.close();
    }
  });

  it('rejects open() with STT_CONNECT_FAILED when the JWT is signed with the wrong secret', async () => {
    const before = standin.problems.length;
    await assert.rejects(
      createZoomScribeAdapter({ ...creds, apiSecret: 'wrong', baseUrl }).open({ sampleRate: 16000, diarize: false, label: 's5/mixed' }, recorder()),
      (err: unknown) => err instanceof OpenRtmsError && err.code === 'STT_CONNECT_FAILED' && /HTTP 401/.test(err.message),
    );
    assert.match(standin.problems.splice(before).join(), /signature/);
  });

  it('refuses a sample rate other than 16 kHz and a configuration without credentials', async () => {
    await assert.rejects(createZoomScribeAdapter({ ...creds, baseUrl }).open({ sampleRate: 8000, diarize: false, label: 'x' }, recorder()), /16000/);
    assert.throws(() => createZoomScribeAdapter({ apiKey: 'k' }), /apiSecret/);
  });
});

describe('zoom-scribe live', () => {
  const ready = process.env.ZOOM_SCRIBE_KEY && process.env.ZOOM_SCRIBE_SECRET;
  it('opens a session against the real service', { skip: ready ? false : 'ZOOM_SCRIBE_KEY and ZOOM_SCRIBE_SECRET are not set' }, async () => {
    const rec = recorder();
    const conn = await createZoomScribeAdapter({ apiKey: process.env.ZOOM_SCRIBE_KEY, apiSecret: process.env.ZOOM_SCRIBE_SECRET }).open(
      { sampleRate: 16000, diarize: false, language: 'en-US', label: 'live/mixed' },
      rec,
    );
    await pace(frames(toneScript(16000).pcm, 16000), (b) => conn.send(b), 20, 1);
    await conn.finish();
    assert.deepEqual(rec.closes.map((c) => c.expected), [true]);
  });
});
