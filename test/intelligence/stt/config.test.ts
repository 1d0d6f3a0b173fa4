/** The config file's `transcription` list: defaults, one-line errors naming the JSON path, secrets never echoed. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/errors.js';
import { parseConfig } from '../../../src/config/index.js';
import { STT_PROVIDER_NAMES } from '../../../src/intelligence/stt/config.js';
import { assertProvidersBuilt, createSttAdapter, STT_PROVIDERS } from '../../../src/intelligence/stt/providers.js';

const parse = (transcription: unknown, env: NodeJS.ProcessEnv = {}) => parseConfig(JSON.stringify({ transcription }), env).transcription!;
function refuses(transcription: unknown, message: RegExp): string {
  try {
    parse(transcription);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, message);
    assert.equal(err.message.split('\n').length, 1);
    return err.message;
  }
  assert.fail(`accepted ${JSON.stringify(transcription)}`);
}

describe('config: transcription', () => {
  it('the sketch of ARCHITECTURE.md, with ${ENV}, and the defaults', () => {
    const [dg] = parse([{ provider: 'deepgram', apiKey: '${DEEPGRAM_API_KEY}', baseUrl: 'wss://api.deepgram.com', model: 'nova-3', audio: 'per-speaker' }], { DEEPGRAM_API_KEY: 'k' });
    assert.deepEqual(dg, { name: 'deepgram', provider: 'deepgram', apiKey: 'k', baseUrl: 'wss://api.deepgram.com', model: 'nova-3', audio: 'per-speaker', bufferSeconds: 30, chunkSeconds: 5, interimResults: true });
  });

  it('accepts all six providers; a second entry of a provider gets a numbered name; match like destinations', () => {
    const all = parse([
      ...STT_PROVIDER_NAMES.map((provider) => ({ provider, apiKey: 'k', ...(provider === 'aws-transcribe' || provider === 'azure-speech' ? { region: 'us-east-1' } : {}), ...(provider === 'zoom-scribe' ? { apiSecret: 's' } : {}) })),
      { provider: 'deepgram', apiKey: 'k2', audio: 'mixed', language: 'de', match: { products: ['webinar'], meetingIds: ['abc=='] } },
    ]);
    assert.deepEqual(all.map((e) => e.name), [...STT_PROVIDER_NAMES, 'deepgram2']);
    assert.deepEqual(all.at(-1)!.match, { products: ['webinar'], meetingIds: ['abc=='] });
    // A local Whisper server needs no key.
    assert.equal(parse([{ provider: 'openai', baseUrl: 'http://127.0.0.1:8000/v1' }])[0].apiKey, undefined);
  });

  it('bad values: one line naming the path, never the secret', () => {
    refuses({}, /^transcription: expected a list/);
    refuses([{ provider: 'rev' }], /^transcription\[0\]\.provider: expected one of deepgram, assemblyai, openai, aws-transcribe, azure-speech, zoom-scribe, got "rev"$/);
    refuses([{}], /^transcription\[0\]\.provider: .*\(missing\)$/);
    refuses([{ provider: 'deepgram' }], /^transcription\[0\]\.apiKey: missing; deepgram needs an API key/);
    refuses([{ provider: 'openai' }], /^transcription\[0\]\.apiKey: missing; OpenAI needs an API key .*or set baseUrl/);
    refuses([{ provider: 'assemblyai', apiKey: 'k', audio: 'stereo' }], /^transcription\[0\]\.audio: expected "per-speaker" or "mixed", got "stereo"$/);
    refuses([{ provider: 'deepgram', apiKey: 'k', baseUrl: 'ftp://x' }], /^transcription\[0\]\.baseUrl: expected a ws\(s\):\/\/ or http\(s\):\/\/ URL, got a ftp: URL$/);
    refuses([{ provider: 'deepgram', apiKey: 'k', bufferSeconds: 0 }], /^transcription\[0\]\.bufferSeconds: expected a number from 1 to 600$/);
    refuses([{ provider: 'deepgram', apiKey: 'k', name: 'zoom' }], /^transcription\[0\]\.name: "zoom" is the name of Zoom's own transcript track/);
    refuses([{ provider: 'deepgram', apiKey: 'k', name: '../x' }], /^transcription\[0\]\.name: expected letters, digits/);
    refuses([{ provider: 'deepgram', apiKey: 'k' }, { provider: 'openai', name: 'deepgram' }], /^transcription\[1\]\.name: "deepgram" is already the name/);
    refuses([{ provider: 'deepgram', apiKey: 'k', match: { product: ['meeting'] } }], /^transcription\[0\]\.match\.product: unknown key/);
    refuses([{ provider: 'aws-transcribe', region: 'us-east-1', accessKeyId: 'AKIA' }], /^transcription\[0\]\.secretAccessKey: missing/);
    refuses([{ provider: 'aws-transcribe' }], /^transcription\[0\]\.region: missing; aws-transcribe needs a region/);
    refuses([{ provider: 'azure-speech', apiKey: 'k' }], /^transcription\[0\]\.region: missing; azure-speech needs a region/);
    refuses([{ provider: 'zoom-scribe', apiKey: 'k' }], /^transcription\[0\]\.apiSecret: missing; zoom-scribe needs a Zoom Build apiKey and apiSecret/);
    const msg = refuses([{ provider: 'deepgram', apiKey: 'super-secret-value', apikey: 'super-secret-value' }], /^transcription\[0\]\.apikey: unknown key/);
    assert.doesNotMatch(msg, /super-secret-value/);
    const bad = refuses([{ provider: 'deepgram', apiKey: 'super-secret-value', bufferSeconds: 'super-secret-value' }], /bufferSeconds/);
    assert.doesNotMatch(bad, /super-secret-value/);
  });

  it('a provider the build has no adapter for is refused at start, one line', () => {
    const entries = parse([{ provider: 'deepgram', apiKey: 'k' }, { provider: 'zoom-scribe', apiKey: 'k', apiSecret: 's' }]);
    const built = { ...STT_PROVIDERS, 'zoom-scribe': undefined };
    assert.throws(() => assertProvidersBuilt(entries, built), /^ConfigError: transcription\[1\]\.provider: provider zoom-scribe is not built into this version of openrtms$/);
    assert.doesNotThrow(() => assertProvidersBuilt(entries.slice(0, 1)));
  });

  it('every provider the config accepts is built, and its entry makes that vendor\'s adapter', () => {
    const entries = parse([
      { provider: 'deepgram', apiKey: 'k' },
      { provider: 'assemblyai', apiKey: 'k' },
      { provider: 'openai', baseUrl: 'http://127.0.0.1:1/v1' },
      { provider: 'aws-transcribe', region: 'us-east-1', accessKeyId: 'AKIA', secretAccessKey: 's' },
      { provider: 'azure-speech', apiKey: 'k', region: 'westeurope' },
      { provider: 'zoom-scribe', apiKey: 'k', apiSecret: 's' },
    ]);
    assert.doesNotThrow(() => assertProvidersBuilt(entries));
    assert.deepEqual(entries.map((e) => createSttAdapter(e).provider), ['deepgram', 'assemblyai', 'openai', 'aws-transcribe', 'azure-speech', 'zoom-scribe']);
  });
});
