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

export type SttAdapterFactory = (config: TranscriptionConfig) => SttAdapter;

export const STT_PROVIDERS: Partial<Record<SttProviderName, SttAdapterFactory>> = {
  deepgram: createDeepgramAdapter,
  assemblyai: createAssemblyAiAdapter,
  openai: createOpenAiAdapter,
};

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
