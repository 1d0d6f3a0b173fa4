/**
 * openrtms: a pure-TypeScript toolkit for Zoom Realtime Media Streams (RTMS).
 *
 * - `RtmsClient` joins a stream from a webhook payload and emits typed media and events.
 * - `Emulator` is the Zoom side on loopback, for development and tests without a Zoom account.
 * - The protocol layer (constants, schemas, signatures) is pure and exported for your own tooling.
 */
export * from './errors.js';
export * from './protocol/index.js';
export * from './client/index.js';
export { createWebhookHandler, StreamLedger, type StreamEvent, type WebhookOutcome } from './webhook/handler.js';
export { StreamRegistry } from './sessions/registry.js';
export { attachPipeline, type PipelineHandle } from './pipeline/pipeline.js';
export type { StreamInfo, StreamSink, TimelineEvent } from './pipeline/types.js';
export { Emulator, type EmulatorOptions } from './emulator/emulator.js';
export { Recorder } from './recorder/recorder.js';
export { openStore } from './store/open.js';
export type { StreamState as StoredStreamState, StreamStats, MeetingRecord, StreamStart, StreamUpsert, StreamStop, StreamRecord, ParticipantRecord, StreamDetail, ParticipantSeen, TranscriptSegment, NewTranscriptSegment, ChatRecord, NewChatMessage, EventRecord, RecordingFile, WriteBatch, ListStreamsOptions, SearchOptions, SearchHit, Store } from './store/types.js';
export { createRuntime, type Runtime, type RuntimeOptions } from './server/runtime.js';
export { DeliveryHub, type DeliveryHubOptions, type DestinationView } from './delivery/hub.js';
export { DESTINATION_FACTORIES, type DestinationDeps, type DestinationFactory } from './delivery/factories.js';
export { signWebhook, verifyWebhookSignature } from './delivery/signature.js';
export { DELIVERY_EVENT_TYPES } from './delivery/types.js';
export type { DeliveryEvent, DeliveryEventType, DeliveryStream, Destination, DestinationConfig, DestinationStats, DeadLetter, UploadedFile, FinishedRecording } from './delivery/types.js';
// Speech-to-text: transcription entries, adapters and the sink that makes provider transcript tracks.
export { Transcription, TranscriptionSink, SttChannel, STT_PROVIDERS, STT_PROVIDER_NAMES, createSttAdapter, parseTranscription } from './intelligence/stt/index.js';
export type { SttAdapter, SttConnection, SttConnectionOptions, SttHandlers, SttResult, SttWord, TranscriptionConfig, SttProviderName } from './intelligence/stt/index.js';
export type { TrackSegment, TrackWord } from './pipeline/types.js';
export type { TranscriptOptions, TranscriptWord } from './store/types.js';
export * from './intelligence/index.js';
export type { SummaryRecord } from './store/types.js';
