/**
 * Destination factories by type. Adding a kind is one line here: `s3: createS3Destination,`.
 * A type configured but not listed is refused at start with a one-line ConfigError.
 */
import { ConfigError } from '../errors.js';
import type { Outbox } from './outbox.js';
import type { Destination, DestinationConfig, DestinationType } from './types.js';
import { createWebhookDestination, type WebhookTuning } from './webhook.js';

/** What a factory may use; everything is owned by the hub (the factory must not close it). */
export interface DestinationDeps {
  dataDir: string;
  /** The process's durable outbox (`<dataDir>/delivery/outbox.db`), opened on first use. */
  outbox(): Outbox;
  logger?: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  webhook?: WebhookTuning;
}

export type DestinationFactory<T extends DestinationType> = (config: Extract<DestinationConfig, { type: T }>, deps: DestinationDeps) => Destination;
export type DestinationFactories = { [T in DestinationType]?: DestinationFactory<T> };

export const DESTINATION_FACTORIES: DestinationFactories = {
  webhook: (config, deps) => createWebhookDestination(config, { outbox: deps.outbox(), tuning: deps.webhook, logger: deps.logger }),
};

/** Refuses (one line, at start) a configured destination type this build has no factory for. */
export function assertDestinationsBuilt(destinations: readonly DestinationConfig[], factories: DestinationFactories = DESTINATION_FACTORIES): void {
  destinations.forEach((c, i) => {
    if (!factories[c.type]) throw new ConfigError('CONFIG_INVALID', `destinations[${i}].type: destination type ${c.type} is not built into this version of openrtms`, { path: `destinations[${i}].type` });
  });
}
