import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createAwsTranscribeAdapter } from '../../../src/intelligence/stt/aws-transcribe.js';
import { OpenRtmsError } from '../../../src/errors.js';
import type { SttWord } from '../../../src/intelligence/stt/types.js';
import { AwsTranscribeStandin } from '../../helpers/stt/aws-standin.js';
import { toneScript, frames } from '../../helpers/stt/cloud-tones.js';
import { recorder, waitFor, pace, TIME_SLACK_MS } from '../../helpers/stt/cloud-harness.js';

const creds = { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'standin-secret', region: 'eu-west-1' };

describe('aws-transcribe adapter against a Transcribe streaming stand-in', () => {
  let standin: AwsTranscribeStandin;
  let endpoint: string;
  before(async () => {
    standin = new AwsTranscribeStandin({ accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, region: creds.region });
    endpoint = await standin.listen();
  });
  after(() => standin.close());

  it('streams signed PCM AudioEvents and maps partial and final results with word times and speakers', async () => {
    const adapter = createAwsTranscribeAdapter({ ...creds, baseUrl: endpoint });
    assert.equal(adapter.provider, 'aws-transcribe');
    assert.equal(adapter.sampleRate, 16000);
    const script = toneScript(16000);
    const rec = recorder();
    const conn = await adapter.open({ sampleRate: 16000, diarize: true, language: 'en-GB', label: 's1/mixed' }, rec);
    await pace(frames(script.pcm, 16000), (b) => conn.send(b));
    await conn.finish();
    await standin.verified();

    assert.deepEqual(standin.problems, []);
    const req = standin.requests.at(-1)!;
    assert.equal(req.headers['x-amzn-transcribe-language-code'], 'en-GB');
    assert.equal(req.headers['x-amzn-transcribe-sample-rate'], '16000');
    assert.equal(req.headers['x-amzn-transcribe-show-speaker-label'], 'true');
    assert.equal(req.audioBytes, script.pcm.length, 'every byte of audio arrived');
    assert.ok(req.endOfStream, 'finish() sent the end-of-stream frame');

    assert.ok(rec.results.some((r) => !r.final), 'partial results arrive as final=false');
    const finals = rec.finals();
    assert.equal(finals.length, 2);
    for (const [i, utterance] of script.utterances.entries()) {
      const r = finals[i]!;
      assert.equal(r.text, utterance.map((w) => w.text).join(' ') + '.');
      assert.equal(r.speaker, utterance[0]!.speaker);
      assert.equal(r.language, 'en-GB');
      assert.equal(r.words?.length, utterance.length, 'punctuation items are not words');
      for (const [j, w] of utterance.entries()) {
        const got: SttWord = r.words![j]!;
        assert.equal(got.text, w.text);
        assert.equal(got.speaker, w.speaker);
        assert.ok(Math.abs(got.startMs - w.startMs) <= TIME_SLACK_MS, `${w.text} starts at ${got.startMs}, sent at ${w.startMs}`);
        assert.ok(Math.abs(got.endMs - w.endMs) <= TIME_SLACK_MS, `${w.text} ends at ${got.endMs}, sent at ${w.endMs}`);
      }
    }
    assert.deepEqual(rec.closes, [{ expected: true }]);
  });

  it('splits large buffers into AudioEvents of at most 200 ms', async () => {
    const adapter = createAwsTranscribeAdapter({ ...creds, endpoint });
    const rec = recorder();
    const conn = await adapter.open({ sampleRate: 16000, diarize: false, label: 's2/u1' }, rec);
    const script = toneScript(16000);
    conn.send(script.pcm);
    await conn.finish();
    await standin.verified();
    assert.deepEqual(standin.problems, []);
    const req = standin.requests.at(-1)!;
    assert.equal(req.maxChunkBytes, 6400);
    assert.equal(req.audioBytes, script.pcm.length);
    assert.equal(req.headers['x-amzn-transcribe-show-speaker-label'], undefined);
    assert.equal(rec.finals().length, 2);
    assert.equal(rec.finals()[0]!.speaker, undefined, 'no speaker labels without diarization');
  });

  it('coalesces frames that queued up into AudioEvents of at most 200 ms', async () => {
    const rec = recorder();
    const conn = await createAwsTranscribeAdapter({ ...creds, baseUrl: endpoint }).open({ sampleRate: 16000, diarize: false, label: 's2b/u1' }, rec);
    const script = toneScript(16000);
    const all = frames(script.pcm, 16000);
    for (const f of all) conn.send(f); // a burst: the SDK pulls after they all queued
    await conn.finish();
    await standin.verified();
    assert.deepEqual(standin.problems, []);
    const req = standin.requests.at(-1)!;
    assert.equal(req.audioBytes, script.pcm.length);
    assert.ok(req.audioEvents < all.length / 5, `${req.audioEvents} AudioEvents for ${all.length} frames`);
    assert.ok(req.maxChunkBytes <= 6400);
    assert.equal(rec.finals().map((r) => r.text).join(' '), 'alpha bravo. charlie delta.');
  });

  it('reports an abrupt server close as onClose({expected:false})', async () => {
    const dropper = new AwsTranscribeStandin({ accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, region: creds.region, dropAfterMs: 300 });
    const url = await dropper.listen();
    try {
      const rec = recorder();
      const conn = await createAwsTranscribeAdapter({ ...creds, endpoint: url }).open({ sampleRate: 16000, diarize: false, label: 's3/mixed' }, rec);
      await pace(frames(toneScript(16000).pcm, 16000), (b) => conn.send(b));
      await waitFor(() => rec.closes.length > 0, 'onClose');
      assert.equal(rec.closes.length, 1);
      assert.equal(rec.closes[0]!.expected, false);
      conn.close();
      assert.equal(rec.closes.length, 1, 'close() after the drop reports nothing more');
    } finally {
      await dropper.close();
    }
  });

  it('keeps an idle stream alive with silence and removes that silence from result times', async () => {
    const idle = new AwsTranscribeStandin({ accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, region: creds.region, idleCloseMs: 1200 });
    const url = await idle.listen();
    try {
      const rec = recorder();
      const conn = await createAwsTranscribeAdapter({ ...creds, endpoint: url, keepAliveAfterMs: 200 }).open({ sampleRate: 16000, diarize: false, label: 's5/u1' }, rec);
      const script = toneScript(16000);
      const all = frames(script.pcm, 16000);
      await pace(all.slice(0, all.length / 2), (b) => conn.send(b));
      await new Promise((r) => setTimeout(r, 2000)); // longer than the stand-in's idle limit
      assert.equal(rec.closes.length, 0, 'the keep-alive kept the stream open');
      await pace(all.slice(all.length / 2), (b) => conn.send(b));
      await conn.finish();
      assert.deepEqual(idle.problems, []);
      assert.ok(idle.requests[0]!.audioBytes > script.pcm.length, 'keep-alive silence was sent');
      const second = rec.finals()[1]!;
      const sent = script.utterances[1]!;
      assert.ok(Math.abs(second.startMs - sent[0]!.startMs) <= TIME_SLACK_MS, `second utterance at ${second.startMs}, sent at ${sent[0]!.startMs}`);
      assert.ok(Math.abs(second.words![1]!.startMs - sent[1]!.startMs) <= TIME_SLACK_MS);
      assert.deepEqual(rec.closes, [{ expected: true }]);

      // Without the keep-alive, Transcribe's idle timeout ends the stream: an unexpected close.
      const rec2 = recorder();
      await createAwsTranscribeAdapter({ ...creds, endpoint: url, keepAliveAfterMs: 0 }).open({ sampleRate: 16000, diarize: false, label: 's6/u1' }, rec2);
      await waitFor(() => rec2.closes.length > 0, 'onClose after the idle timeout');
      assert.equal(rec2.closes[0]!.expected, false);
      assert.match(rec2.closes[0]!.reason ?? '', /BadRequestException.*no new audio/);
    } finally {
      await idle.close();
    }
  });

  it('rejects open() with STT_CONNECT_FAILED when the service refuses the request', async () => {
    const adapter = createAwsTranscribeAdapter({ ...creds, accessKeyId: 'AKIDWRONG', endpoint });
    const before = standin.problems.length;
    await assert.rejects(adapter.open({ sampleRate: 16000, diarize: false, label: 's4/mixed' }, recorder()), (err: unknown) => {
      assert.ok(err instanceof OpenRtmsError);
      assert.equal(err.code, 'STT_CONNECT_FAILED');
      assert.match(err.message, /aws-transcribe/);
      return true;
    });
    standin.problems.splice(before);
  });

  it('rejects open() when the SigV4 signature does not verify with the secret', async () => {
    const before = standin.problems.length;
    await assert.rejects(
      createAwsTranscribeAdapter({ ...creds, secretAccessKey: 'not-the-secret', baseUrl: endpoint }).open({ sampleRate: 16000, diarize: false, label: 's7/mixed' }, recorder()),
      (err: unknown) => err instanceof OpenRtmsError && err.code === 'STT_CONNECT_FAILED' && /InvalidSignature|signature/i.test(err.message),
    );
    assert.match(standin.problems.splice(before).join(), /does not verify/);
  });

  it('refuses a configuration without a region', () => {
    const saved = process.env.AWS_REGION;
    delete process.env.AWS_REGION;
    try {
      assert.throws(() => createAwsTranscribeAdapter({}), /region/);
    } finally {
      if (saved !== undefined) process.env.AWS_REGION = saved;
    }
  });
});

describe('aws-transcribe live', () => {
  const ready = process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY && process.env.AWS_REGION;
  it('transcribes against the real service', { skip: ready ? false : 'AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION are not set' }, async () => {
    const rec = recorder();
    const conn = await createAwsTranscribeAdapter().open({ sampleRate: 16000, diarize: true, language: 'en-US', label: 'live/mixed' }, rec);
    await pace(frames(toneScript(16000).pcm, 16000), (b) => conn.send(b), 20, 1);
    await conn.finish();
    // Tones are not speech: the live check is the protocol (accepted, closed cleanly), not the words.
    assert.deepEqual(rec.closes, [{ expected: true }]);
  });
});
