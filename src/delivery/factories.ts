/**
 * Destination factories by type: signed webhooks, S3, Azure Blob, RTMP restream. A type configured
 * but not listed is refused at start with a one-line ConfigError.
 */
import { ConfigError } from '../errors.js';
import type { Outbox } from './outbox.js';
import type { Destination, DestinationConfig, DestinationType } from './types.js';
import { createWebhookDestination, type WebhookTuning } from './webhook.js';
import { createS3Destination } from './s3.js';
import { createAzureBlobDestination } from './azure-blob.js';
import { createRtmpDestination } from './rtmp.js';
import type { FinishedRecording, UploadedFile } from './types.js';

/** What a factory may use; everything is owned by the hub (the factory must not close it). */
export interface DestinationDeps {
  dataDir: string;
  /** The process's durable outbox (`<dataDir>/delivery/outbox.db`), opened on first use. */
  outbox(): Outbox;
  logger?: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  webhook?: WebhookTuning;
  /** An upload resumed after a restart (nobody awaits it) finished: the hub announces `recording.ready`. */
  onResumedUpload?(destination: string, recording: FinishedRecording, files: UploadedFile[]): void;
}

export type DestinationFactory<T extends DestinationType> = (config: Extract<DestinationConfig, { type: T }>, deps: DestinationDeps) => Destination;
export type DestinationFactories = { [T in DestinationType]?: DestinationFactory<T> };

export const DESTINATION_FACTORIES: DestinationFactories = {
  webhook: (config, deps) => createWebhookDestination(config, { outbox: deps.outbox(), tuning: deps.webhook, logger: deps.logger }),
  s3: (config, deps) => createS3Destination(config, storageDeps(config.name, deps)),
  'azure-blob': (config, deps) => createAzureBlobDestination(config, storageDeps(config.name, deps)),
  rtmp: (config, deps) => createRtmpDestination(config, { logger: deps.logger }),
};

function storageDeps(name: string, deps: DestinationDeps) {
  return { dataDir: deps.dataDir, logger: deps.logger, onResumedUpload: (recording: FinishedRecording, files: UploadedFile[]) => deps.onResumedUpload?.(name, recording, files) };
}

/** Refuses (one line, at start) a configured destination type this build has no factory for. */
export function assertDestinationsBuilt(destinations: readonly DestinationConfig[], factories: DestinationFactories = DESTINATION_FACTORIES): void {
  destinations.forEach((c, i) => {
    if (!factories[c.type]) throw new ConfigError('CONFIG_INVALID', `destinations[${i}].type: destination type ${c.type} is not built into this version of openrtms`, { path: `destinations[${i}].type` });
  });
}
