/**
 * OpenAI-compatible transcription (OpenAI, or a local Whisper server) through the official `openai`
 * SDK against a stand-in that checks each multipart request: WAV 16-bit mono at the adapter's rate,
 * model, verbose_json with word and segment timestamps, the Bearer key.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createOpenAiAdapter } from '../../../src/intelligence/stt/openai.js';
import { startOpenAiStandIn, type OpenAiStandIn } from '../../helpers/stt/openai-server.js';
import { speechFrames, T0 } from '../../helpers/stt/frames.js';
import { entry, feedAll, makeSink } from '../../helpers/stt/drive.js';
import { speechLines } from '../../helpers/stt/recognizer.js';

const KEY = 'sk-test';
const servers: OpenAiStandIn[] = [];
after(async () => Promise.all(servers.map((s) => s.close())));

describe('openai adapter', () => {
  it('mixed audio in chunks cut at pauses: every line once, in order, with words on the stream clock', async () => {
    const oa = await startOpenAiStandIn({ apiKey: KEY, sampleRate: 16000 });
    servers.push(oa);
    const config = entry({ provider: 'openai', apiKey: KEY, baseUrl: oa.url, model: 'whisper-1', audio: 'mixed', chunkSeconds: 3, language: 'en-US' });
    const d = makeSink(config, createOpenAiAdapter(config));
    const plan = [{ line: 0, atMs: 300 }, { line: 1, atMs: 4800 }, { line: 2, atMs: 9600 }, { line: 3, atMs: 13400 }];
    await feedAll(d, speechFrames(plan, false), false);
    assert.deepEqual(oa.violations, []);
    assert.ok(oa.requests.length >= 3, `${oa.requests.length} requests`);
    assert.ok(oa.requests.every((r) => r.model === 'whisper-1' && r.language === 'en' && r.durationMs <= 4600), JSON.stringify(oa.requests.map((r) => r.durationMs)));
    const lines = speechLines();
    assert.deepEqual(d.segments.map((s) => s.text), plan.map((p) => lines[p.line].text));
    for (const [i, s] of d.segments.entries()) {
      assert.ok(Math.abs(s.startTime - (T0 + plan[i].atMs)) < 400, `segment ${i} at +${s.startTime - T0} ms, line at +${plan[i].atMs}`);
      assert.equal(s.words?.length, lines[plan[i].line].text.split(' ').length);
    }
  });

  it('a failing server (503 after the SDK retries) is a lost connection: the chunk is sent again and nothing is lost', async () => {
    const oa = await startOpenAiStandIn({ apiKey: KEY });
    servers.push(oa);
    oa.failNext = 3; // the first request and the SDK's two retries
    const config = entry({ provider: 'openai', apiKey: KEY, baseUrl: oa.url, audio: 'mixed', chunkSeconds: 3 });
    const d = makeSink(config, createOpenAiAdapter(config), { backoffMs: 20 });
    const plan = [{ line: 0, atMs: 300 }, { line: 1, atMs: 4800 }];
    await feedAll(d, speechFrames(plan, false), false);
    const lines = speechLines();
    assert.deepEqual(d.segments.map((s) => s.text), plan.map((p) => lines[p.line].text));
    assert.equal(d.sink.stats.reconnects, 1);
    assert.ok(d.sink.stats.resentMs > 0);
    assert.equal(d.sink.stats.droppedMs, 0);
  });
});
