/**
 * AssemblyAI Universal Streaming (v3) through the official `assemblyai` SDK against a TLS stand-in
 * (the SDK accepts only wss://) that follows the v3 protocol and checks what it receives.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAssemblyAiAdapter } from '../../../src/intelligence/stt/assemblyai.js';
import { startAssemblyAiStandIn, type AssemblyAiStandIn } from '../../helpers/stt/assemblyai-server.js';
import { speechFrames, T0 } from '../../helpers/stt/frames.js';
import { entry, feedAll, makeSink } from '../../helpers/stt/drive.js';
import { speechLines } from '../../helpers/stt/recognizer.js';

const KEY = 'aai-test-key';
let aai: AssemblyAiStandIn;
const previousTls = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
before(async () => {
  aai = await startAssemblyAiStandIn({ apiKey: KEY });
  // The stand-in's certificate is self-signed; this process talks to nothing else.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
});
after(async () => {
  if (previousTls === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previousTls;
  await aai.close();
});

describe('assemblyai adapter', () => {
  it('per-speaker audio: a session per participant, only its speaker, formatted final turns with word timings', async () => {
    const config = entry({ provider: 'assemblyai', apiKey: KEY, baseUrl: aai.url });
    const d = makeSink(config, createAssemblyAiAdapter(config));
    const plan = [{ line: 2, atMs: 0 }, { line: 3, atMs: 3400 }, { line: 6, atMs: 6800 }];
    await feedAll(d, speechFrames(plan, true), true);
    d.segments.sort((a, b) => a.startTime - b.startTime);
    assert.deepEqual(aai.violations, []);
    assert.equal(aai.sessions.length, 2);
    for (const s of aai.sessions) {
      assert.equal(s.authorization, KEY);
      assert.equal(s.params.sample_rate, '16000');
      assert.equal(s.params.encoding, 'pcm_s16le');
      assert.equal(s.params.format_turns, 'true');
      assert.equal(s.params.speaker_labels, undefined);
      assert.equal(s.terminated, true, 'Terminate at the end');
      assert.equal(new Set(s.recognized.map((r) => r.userId)).size, 1, 'a session hears one participant');
    }
    const lines = speechLines();
    assert.deepEqual(d.segments.map((s) => [s.userName, s.text]), plan.map((p) => [lines[p.line].speaker, lines[p.line].text]));
    for (const [i, s] of d.segments.entries()) {
      assert.ok(Math.abs(s.startTime - (T0 + plan[i].atMs)) < 400, `segment ${i} at +${s.startTime - T0}`);
      assert.equal(s.words?.length, lines[plan[i].line].text.split(' ').length);
    }
  });

  it('mixed audio: one session with speaker_labels, turns labelled by speaker', async () => {
    const before = aai.sessions.length;
    const config = entry({ provider: 'assemblyai', apiKey: KEY, baseUrl: aai.url, audio: 'mixed' });
    const d = makeSink(config, createAssemblyAiAdapter(config));
    const plan = [{ line: 0, atMs: 200 }, { line: 1, atMs: 4600 }];
    await feedAll(d, speechFrames(plan, false), false);
    assert.deepEqual(aai.violations, []);
    assert.equal(aai.sessions.length - before, 1);
    assert.equal(aai.sessions.at(-1)!.params.speaker_labels, 'true');
    const lines = speechLines();
    assert.deepEqual(d.segments.map((s) => [s.userName, s.text]), [['Speaker A', lines[0].text], ['Speaker B', lines[1].text]]);
  });
});
