import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createAzureSpeechAdapter } from '../../../src/intelligence/stt/azure-speech.js';
import { OpenRtmsError } from '../../../src/errors.js';
import type { SttWord } from '../../../src/intelligence/stt/types.js';
import { AzureSpeechStandin } from '../../helpers/stt/azure-standin.js';
import { toneScript, frames } from '../../helpers/stt/cloud-tones.js';
import { recorder, waitFor, pace, TIME_SLACK_MS } from '../../helpers/stt/cloud-harness.js';

const KEY = 'azure-standin-key';

describe('azure-speech adapter against a Speech service stand-in', () => {
  let standin: AzureSpeechStandin;
  let baseUrl: string;
  before(async () => {
    standin = new AzureSpeechStandin({ key: KEY });
    baseUrl = await standin.listen();
  });
  after(() => standin.close());

  for (const diarize of [false, true]) {
    it(`${diarize ? 'ConversationTranscriber' : 'SpeechRecognizer'}: interim and final results with word times${diarize ? ' and speakers' : ''}`, async () => {
      const adapter = createAzureSpeechAdapter({ apiKey: KEY, baseUrl });
      assert.equal(adapter.provider, 'azure-speech');
      assert.equal(adapter.sampleRate, 16000);
      const script = toneScript(16000);
      const rec = recorder();
      const started = Date.now();
      const conn = await adapter.open({ sampleRate: 16000, diarize, language: 'fr-FR', label: `s-${diarize}/mixed` }, rec);
      await pace(frames(script.pcm, 16000), (b) => conn.send(b));
      await conn.finish();
      assert.ok(Date.now() - started < 8000, 'finish() resolved on the end of the session, not on its timeout');

      assert.deepEqual(standin.problems, []);
      const c = standin.connections.at(-1)!;
      assert.equal(c.query.get('language'), 'fr-FR');
      assert.deepEqual(c.wave, { format: 1, channels: 1, sampleRate: 16000, bitsPerSample: 16 });
      assert.equal(c.audioBytes, script.pcm.length, 'every byte of audio arrived');
      assert.ok(c.endOfStream, 'finish() sent the empty end-of-audio message');
      assert.deepEqual(c.paths.slice(0, 2), ['speech.config', 'speech.context']);
      const ctx = JSON.stringify(c.speechContext);
      assert.match(ctx, /WordTimings/, 'word timings were asked for');
      if (diarize) assert.match(ctx, /speakerDiarization/);

      assert.ok(rec.results.some((r) => !r.final), 'hypotheses arrive as final=false');
      const finals = rec.finals();
      assert.equal(finals.length, 2);
      for (const [i, utterance] of script.utterances.entries()) {
        const r = finals[i]!;
        const said = utterance.map((w) => w.text).join(' ');
        assert.equal(r.text, said[0]!.toUpperCase() + said.slice(1) + '.');
        assert.equal(r.speaker, diarize ? `Guest-${Number(utterance[0]!.speaker) + 1}` : undefined);
        assert.ok(Math.abs(r.startMs - utterance[0]!.startMs) <= TIME_SLACK_MS, `starts at ${r.startMs}`);
        assert.ok(Math.abs(r.endMs - utterance.at(-1)!.endMs) <= TIME_SLACK_MS, `ends at ${r.endMs}`);
        assert.equal(r.words?.length, utterance.length);
        for (const [j, w] of utterance.entries()) {
          const got: SttWord = r.words![j]!;
          assert.equal(got.text, w.text);
          assert.ok(Math.abs(got.startMs - w.startMs) <= TIME_SLACK_MS && Math.abs(got.endMs - w.endMs) <= TIME_SLACK_MS, `${w.text} at ${got.startMs}-${got.endMs}`);
        }
      }
      assert.deepEqual(rec.closes, [{ expected: true }]);
    });
  }

  it('reports an abrupt server close as onClose({expected:false}) without retrying on its own', async () => {
    const dropper = new AzureSpeechStandin({ key: KEY, dropAfterMs: 300 });
    const url = await dropper.listen();
    try {
      const rec = recorder();
      const conn = await createAzureSpeechAdapter({ apiKey: KEY, baseUrl: url }).open({ sampleRate: 16000, diarize: false, label: 's3/mixed' }, rec);
      await pace(frames(toneScript(16000).pcm, 16000), (b) => conn.send(b));
      await waitFor(() => rec.closes.length > 0, 'onClose');
      assert.equal(rec.closes[0]!.expected, false);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(dropper.connections.length, 1, 'the SDK did not reconnect by itself');
      conn.close();
      assert.equal(rec.closes.length, 1);
    } finally {
      await dropper.close();
    }
  });

  it('rejects open() with STT_CONNECT_FAILED when the key is refused', async () => {
    const before = standin.problems.length;
    await assert.rejects(
      createAzureSpeechAdapter({ apiKey: 'wrong', baseUrl }).open({ sampleRate: 16000, diarize: false, label: 's4/mixed' }, recorder()),
      (err: unknown) => err instanceof OpenRtmsError && err.code === 'STT_CONNECT_FAILED' && /azure-speech/.test(err.message),
    );
    assert.match(standin.problems.splice(before).join(), /Ocp-Apim-Subscription-Key/);
  });

  it('refuses a configuration without key or without region and base URL', () => {
    assert.throws(() => createAzureSpeechAdapter({ apiKey: '', region: 'westeurope' }), /apiKey/);
    assert.throws(() => createAzureSpeechAdapter({ apiKey: 'k' }), /region or baseUrl/);
  });
});

describe('azure-speech live', () => {
  const ready = process.env.AZURE_SPEECH_KEY && process.env.AZURE_SPEECH_REGION;
  it('recognises against the real service', { skip: ready ? false : 'AZURE_SPEECH_KEY and AZURE_SPEECH_REGION are not set' }, async () => {
    const rec = recorder();
    const conn = await createAzureSpeechAdapter({ apiKey: process.env.AZURE_SPEECH_KEY!, region: process.env.AZURE_SPEECH_REGION }).open(
      { sampleRate: 16000, diarize: true, language: 'en-US', label: 'live/mixed' },
      rec,
    );
    await pace(frames(toneScript(16000).pcm, 16000), (b) => conn.send(b), 20, 1);
    await conn.finish();
    assert.deepEqual(rec.closes.map((c) => c.expected), [true]);
  });
});
