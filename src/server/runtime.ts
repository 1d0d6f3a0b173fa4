/**
 * Wires a running server: store → registry (client + sinks per stream) → webhook handler → HTTP app.
 * Shared by `serve` and `demo` so both run exactly the same pipeline.
 */
import type { RtmsClientOptions } from '../client/types.js';
import type { StreamInfo, StreamSink } from '../pipeline/types.js';
import { StreamRegistry, type RegistryLogger } from '../sessions/registry.js';
import type { Store } from '../store/types.js';
import { StoreSink } from '../store/sink.js';
import { Recorder } from '../recorder/recorder.js';
import { createWebhookHandler } from '../webhook/handler.js';
import { createApp, type App } from './app.js';

export interface RuntimeOptions {
  clientId: string;
  clientSecret: string;
  secretToken: string;
  webhookPath: string;
  store: Store;
  /** Where recordings go (`<dataDir>/recordings/<stream>/`); no recording without it. */
  dataDir?: string;
  apiToken?: string;
  client?: Omit<RtmsClientOptions, 'clientId' | 'clientSecret'>;
  /** More sinks per stream, after the store's (live feed, metrics, benchmarks...). */
  extraSinks?: (info: StreamInfo) => StreamSink[];
  logger?: RegistryLogger;
}

export interface Runtime {
  app: App;
  registry: StreamRegistry;
  store: Store;
  /** Leaves every stream, flushes every sink, closes the HTTP server and the store (≤ 10 s). */
  shutdown(): Promise<void>;
}

export function createRuntime(o: RuntimeOptions): Runtime {
  const registry = new StreamRegistry({
    client: { ...o.client, clientId: o.clientId, clientSecret: o.clientSecret },
    sinks: (info) => [
      new StoreSink(o.store, info, { logger: o.logger }),
      ...(o.dataDir ? [new Recorder({ dataDir: o.dataDir, info })] : []),
      ...(o.extraSinks?.(info) ?? []),
    ],
    logger: o.logger,
  });
  const app = createApp({ webhookPath: o.webhookPath, webhook: createWebhookHandler({ secretToken: o.secretToken }), registry, store: o.store, dataDir: o.dataDir, apiToken: o.apiToken, logger: o.logger });
  let stopping: Promise<void> | undefined;
  return {
    app,
    registry,
    store: o.store,
    shutdown() {
      stopping ??= (async () => {
        await registry.shutdown(9_000);
        await app.close();
        await o.store.close();
      })();
      return stopping;
    },
  };
}
