export * from './types.js';
export * from './config.js';
export { STT_PROVIDERS, assertProvidersBuilt, createSttAdapter, type SttAdapterFactory } from './providers.js';
export { SttChannel, type ChannelStats } from './channel.js';
export { TranscriptionSink, type TranscriptionStats } from './sink.js';
export { Transcription } from './transcription.js';
