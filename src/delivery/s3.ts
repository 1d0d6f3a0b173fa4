/**
 * Destination `s3`: finished recordings to an S3 bucket, or any S3-compatible store (MinIO, R2,
 * s3rver) through `endpoint` + `forcePathStyle`. Multipart upload (lib-storage) for large files,
 * SHA-256 checksums the server checks where it supports them, and the file's SHA-256 in the object's
 * metadata (`x-amz-meta-sha256`) in every case, which is what the destination verifies and resumes by.
 */
import { createReadStream } from 'node:fs';
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, type ChecksumAlgorithm } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3DestinationConfig, Destination } from './types.js';
import { StorageDestination, type ObjectStore, type RemoteObject, type StorageDeps, type UploadTuning } from './uploads.js';

/** Parts of 8 MiB (S3's minimum is 5 MiB); two in flight per file. */
const PART_SIZE = 8 << 20;
const QUEUE_SIZE = 2;

export function createS3Destination(config: S3DestinationConfig & UploadTuning, deps: StorageDeps): Destination {
  return new StorageDestination({ ...config, prefix: config.prefix ?? '' }, new S3Store(config), deps);
}

export class S3Store implements ObjectStore {
  readonly #config: S3DestinationConfig;
  #client: S3Client;
  readonly #bucket: string;
  /**
   * Cleared when the server refuses checksum headers (some S3-compatible stores): from then on the
   * client sends none, not even the SDK's default CRC32; the metadata still carries the SHA-256.
   */
  #checksum: ChecksumAlgorithm | undefined = 'SHA256';

  constructor(config: S3DestinationConfig) {
    this.#config = config;
    this.#bucket = config.bucket;
    this.#client = this.#makeClient(true);
  }

  #makeClient(checksums: boolean): S3Client {
    const config = this.#config;
    // The SDK warns on Node 20 that its releases after January 2027 will need Node 22: the version
    // package-lock.json pins runs on 20, and the warning would break `serve`'s one-line start-up output.
    // Set AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false to see it.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    return new S3Client({
      region: config.region || 'us-east-1',
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle,
      // Credentials from the config when given, else the SDK's default chain (env, profile, IMDS, web identity).
      ...(config.accessKeyId && config.secretAccessKey ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } } : {}),
      // Our own retry loop has the backoff and the max age; the SDK's only absorbs a single blip.
      maxAttempts: 2,
      // A server that accepts the connection and then stalls must not hold a file forever.
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
      ...(checksums ? {} : { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const }),
    });
  }

  async prepare(): Promise<void> {
    // The bucket is the operator's (its policy, region, lifecycle): never created here.
  }

  async head(key: string, signal: AbortSignal): Promise<RemoteObject | undefined> {
    try {
      const h = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }), { abortSignal: signal });
      return { bytes: h.ContentLength ?? -1, ...(h.Metadata?.sha256 ? { sha256: h.Metadata.sha256 } : {}) };
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  async put(o: { key: string; file: string; bytes: number; sha256: string; contentType: string; signal: AbortSignal }): Promise<void> {
    for (;;) {
      const upload = new Upload({
        client: this.#client,
        params: {
          Bucket: this.#bucket,
          Key: o.key,
          Body: createReadStream(o.file),
          ContentType: o.contentType,
          Metadata: { sha256: o.sha256 },
          ...(this.#checksum ? { ChecksumAlgorithm: this.#checksum } : {}),
        },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        // A failed multipart upload is aborted (its parts deleted): the retry starts it again whole.
        leavePartsOnError: false,
      });
      const abort = () => void upload.abort().catch(() => {});
      o.signal.addEventListener('abort', abort, { once: true });
      try {
        await upload.done();
        return;
      } catch (err) {
        if (this.#checksum && refusesChecksum(err)) {
          this.#checksum = undefined;
          this.#client.destroy();
          this.#client = this.#makeClient(false);
          continue;
        }
        throw err;
      } finally {
        o.signal.removeEventListener('abort', abort);
      }
    }
  }

  async list(prefix: string, signal: AbortSignal): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#client.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }), { abortSignal: signal });
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async remove(keys: readonly string[], signal: AbortSignal): Promise<void> {
    // One request per object: every S3-compatible store has DeleteObject (not all have DeleteObjects), and a recording is a few dozen files.
    for (const key of keys) await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }), { abortSignal: signal });
  }

  urlOf(key: string): string {
    return `s3://${this.#bucket}/${key}`;
  }

  close(): void {
    this.#client.destroy();
  }
}

/** An S3-compatible server that does not implement the flexible checksums answers 400/501 naming them. */
function refusesChecksum(err: unknown): boolean {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  return (status === 400 || status === 501) && /checksum/i.test(`${e.name} ${e.message}`);
}
