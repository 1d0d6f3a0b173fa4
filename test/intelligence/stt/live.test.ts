/**
 * Live tests against the real vendors: each runs when its key is in the environment and skips with
 * a one-line reason otherwise. Two lines of the emulator's speech go through the adapter; the
 * transcript must contain their words.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSttAdapter } from '../../../src/intelligence/stt/providers.js';
import { speechFrames } from '../../helpers/stt/frames.js';
import { entry, feedTimed, makeSink } from '../../helpers/stt/drive.js';

const VENDORS = [
  { provider: 'deepgram', env: 'DEEPGRAM_API_KEY', extra: { model: 'nova-3' } },
  { provider: 'assemblyai', env: 'ASSEMBLYAI_API_KEY', extra: {} },
  { provider: 'openai', env: 'OPENAI_API_KEY', extra: { model: 'whisper-1', chunkSeconds: 4 } },
] as const;

describe('speech-to-text against the real vendors', () => {
  for (const v of VENDORS) {
    const key = process.env[v.env];
    it(`${v.provider}: two spoken lines come back as text`, { skip: key ? false : `${v.env} is not set`, timeout: 60_000 }, async () => {
      const config = entry({ provider: v.provider, apiKey: key, audio: 'mixed', language: 'en', ...v.extra });
      const d = makeSink(config, createSttAdapter(config));
      // Real time: streaming vendors reject audio sent faster than it plays.
      await feedTimed(d, speechFrames([{ line: 0, atMs: 200 }, { line: 3, atMs: 4600 }], false), false, 1);
      await d.sink.close();
      const text = d.segments.map((s) => s.text).join(' ').toLowerCase();
      assert.match(text, /roadmap/, text);
      assert.match(text, /failover/, text);
      assert.ok(d.segments.every((s) => s.endTime >= s.startTime));
    });
  }
});
