/**
 * The speech-to-text registry: one factory per provider name. A provider accepted by the config
 * (config.ts STT_PROVIDER_NAMES) but missing here is refused at start, one line naming the entry.
 * Adding a vendor = its adapter module + one line below.
 */
import { ConfigError } from '../../errors.js';
import type { SttProviderName, TranscriptionConfig } from './config.js';
import type { SttAdapter } from './types.js';
import { createDeepgramAdapter } from './deepgram.js';
import { createAssemblyAiAdapter } from './assemblyai.js';
import { createOpenAiAdapter } from './openai.js';
import { createAwsTranscribeAdapter } from './aws-transcribe.js';
import { createAzureSpeechAdapter } from './azure-speech.js';
import { createZoomScribeAdapter } from './zoom-scribe.js';

export type SttAdapterFactory = (config: TranscriptionConfig) => SttAdapter;

export const STT_PROVIDERS: Partial<Record<SttProviderName, SttAdapterFactory>> = {
  deepgram: createDeepgramAdapter,
  assemblyai: createAssemblyAiAdapter,
  openai: createOpenAiAdapter,
  // The cloud adapters take their own option objects; `options` (vendor-specific settings) fills the rest.
  'aws-transcribe': (c) =>
    createAwsTranscribeAdapter({
      ...c.options,
      ...defined({ region: c.region, baseUrl: c.baseUrl, accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, languageCode: c.language }),
    }),
  'azure-speech': (c) => createAzureSpeechAdapter({ ...c.options, ...defined({ region: c.region, baseUrl: c.baseUrl, language: c.language }), apiKey: c.apiKey ?? '' }),
  'zoom-scribe': (c) => createZoomScribeAdapter({ ...c.options, ...defined({ apiKey: c.apiKey, apiSecret: c.apiSecret, baseUrl: c.baseUrl, language: c.language }) }),
};

/** The entries whose value is set (an adapter's own defaults apply to the rest). */
function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Refuses (one line, at start) a configured provider this build has no adapter for. */
export function assertProvidersBuilt(entries: readonly TranscriptionConfig[], providers = STT_PROVIDERS): void {
  entries.forEach((c, i) => {
    if (!providers[c.provider]) throw new ConfigError('CONFIG_INVALID', `transcription[${i}].provider: provider ${c.provider} is not built into this version of openrtms`, { path: `transcription[${i}].provider` });
  });
}

/** The adapter of one entry (one per entry, shared by every stream it transcribes). */
export function createSttAdapter(config: TranscriptionConfig, providers = STT_PROVIDERS): SttAdapter {
  const factory = providers[config.provider];
  if (!factory) throw new ConfigError('CONFIG_INVALID', `transcription provider ${config.provider} is not built into this version of openrtms`);
  return factory(config);
}
