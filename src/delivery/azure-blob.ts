/**
 * Destination `azure-blob`: finished recordings to an Azure Storage container (created if missing),
 * as block blobs uploaded in parallel blocks, with the file's SHA-256 in the blob's metadata
 * (`x-ms-meta-sha256`), which is what the destination verifies and resumes by.
 */
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { AzureBlobDestinationConfig, Destination } from './types.js';
import { StorageDestination, type ObjectStore, type RemoteObject, type StorageDeps, type UploadTuning } from './uploads.js';

const BLOCK_SIZE = 8 << 20;

export function createAzureBlobDestination(config: AzureBlobDestinationConfig & UploadTuning, deps: StorageDeps): Destination {
  return new StorageDestination({ ...config, prefix: config.prefix ?? '' }, new AzureBlobStore(config), deps);
}

export class AzureBlobStore implements ObjectStore {
  readonly #container: ContainerClient;

  constructor(config: AzureBlobDestinationConfig) {
    const service = BlobServiceClient.fromConnectionString(config.connectionString, {
      // Our own retry loop has the backoff and the max age; the SDK's only absorbs a single blip.
      retryOptions: { maxTries: 2, retryDelayInMs: 500, tryTimeoutInMs: 120_000 },
    });
    this.#container = service.getContainerClient(config.container);
  }

  async prepare(signal: AbortSignal): Promise<void> {
    await this.#container.createIfNotExists({ abortSignal: signal });
  }

  async head(key: string, signal: AbortSignal): Promise<RemoteObject | undefined> {
    try {
      const p = await this.#container.getBlockBlobClient(key).getProperties({ abortSignal: signal });
      return { bytes: p.contentLength ?? -1, ...(p.metadata?.sha256 ? { sha256: p.metadata.sha256 } : {}) };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  async put(o: { key: string; file: string; sha256: string; contentType: string; signal: AbortSignal }): Promise<void> {
    await this.#container.getBlockBlobClient(o.key).uploadFile(o.file, {
      abortSignal: o.signal,
      blockSize: BLOCK_SIZE,
      // Beyond one block, parallel blocks and one commit (Put Block List) rather than one long PUT.
      maxSingleShotSize: BLOCK_SIZE,
      concurrency: 2,
      metadata: { sha256: o.sha256 },
      blobHTTPHeaders: { blobContentType: o.contentType },
    });
  }

  async list(prefix: string, signal: AbortSignal): Promise<string[]> {
    const keys: string[] = [];
    try {
      for await (const blob of this.#container.listBlobsFlat({ prefix, abortSignal: signal })) keys.push(blob.name);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return []; // no container: nothing was ever uploaded
      throw err;
    }
    return keys;
  }

  async remove(keys: readonly string[], signal: AbortSignal): Promise<void> {
    for (const key of keys) await this.#container.deleteBlob(key, { abortSignal: signal, deleteSnapshots: 'include' }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
  }

  urlOf(key: string): string {
    return this.#container.getBlockBlobClient(key).url;
  }

  close(): void {
    // The SDK holds no sockets of its own beyond Node's agent; nothing to release.
  }
}
