/**
 * What the object-storage destinations (S3, Azure Blob) share: a finished recording becomes one
 * upload job; its files go up one at a time under `<prefix><encoded stream id>/<path>`, manifest.json
 * last; each file is verified (size and SHA-256 read back from the object's metadata) and written to
 * the journal before the next one starts. A failure is retried with backoff until the job's max age;
 * a restarted process resumes every unfinished job from the journal, and a file already held by the
 * destination (journal, or the object's metadata when the journal is gone) is never uploaded again.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DeliveryError } from '../errors.js';
import { safeName } from '../recorder/paths.js';
import { matchesFilter } from './match.js';
import { MANIFEST, contentTypeOf, digestFile, listRecording } from './recording-files.js';
import type { DeliveryEventType, DeliveryStream, Destination, DestinationMatch, DestinationStats, DestinationType, FinishedRecording, UploadedFile } from './types.js';
import { UploadJournal, type JournalEntry } from './upload-journal.js';

/** What the destination reads back from an object. */
export interface RemoteObject {
  bytes: number;
  /** Hex SHA-256 from the object's metadata; undefined when the object carries none. */
  sha256?: string;
}

/** One object store (an S3 bucket, an Azure container): the only part that differs between destinations. */
export interface ObjectStore {
  /** Makes the store usable (e.g. creates the container); called before the first upload, retried on failure. */
  prepare(signal: AbortSignal): Promise<void>;
  /** The object's size and SHA-256 metadata; undefined when there is no such object. */
  head(key: string, signal: AbortSignal): Promise<RemoteObject | undefined>;
  /** Uploads a local file as `key`, with its SHA-256 in the object's metadata. */
  put(o: { key: string; file: string; bytes: number; sha256: string; contentType: string; signal: AbortSignal }): Promise<void>;
  /** Keys of every object whose key starts with `prefix` (all pages); none when the bucket or container is missing. */
  list(prefix: string, signal: AbortSignal): Promise<string[]>;
  /** Deletes these objects; one already gone is not an error. */
  remove(keys: readonly string[], signal: AbortSignal): Promise<void>;
  /** Where the object is, for `recording.ready` (`s3://bucket/key`, the blob's URL). */
  urlOf(key: string): string;
  close(): void;
}

/** Tuning, with defaults; config keys of the object-storage destinations beyond the contract's. */
export interface UploadTuning {
  /** After this long (from when the recording was handed over) an upload still failing counts as failed. Default 24. */
  maxAgeHours?: number;
  /** First retry delay (ms), doubled per failure up to `retryMaxMs`. Defaults 1000 and 60000. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Recordings uploaded at the same time. Default 2. */
  concurrency?: number;
  /**
   * Processes sharing a data dir (a cluster on a shared volume) lock each recording they upload; a lock
   * not refreshed for this long is a dead process's, and its upload is taken over. Default 60000.
   */
  lockStaleMs?: number;
  /** How often the journal is scanned again for uploads a dead process left (after `start()`). Default 60000. */
  rescanMs?: number;
}

export interface StorageDestinationOptions extends UploadTuning {
  name: string;
  type: DestinationType;
  prefix: string;
  deleteLocal: boolean;
  match?: DestinationMatch;
}

/** Structural, so pino or the hub's narrower logger both fit; `error` falls back to `warn`. */
export interface StorageLogger {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error?(o: object, m?: string): void;
}

export interface StorageDeps {
  dataDir: string;
  /** Gets destination names, stream ids, paths and error lines; never a credential or connection string. */
  logger?: StorageLogger;
  /**
   * Called when a recording resumed from the journal by `start()` (which no caller awaits) is
   * uploaded, so the hub can still announce `recording.ready`.
   */
  onResumedUpload?(recording: FinishedRecording, files: UploadedFile[]): void;
}

interface Job {
  entry: JournalEntry;
  /** This process holds the recording's lock (taken before anything is uploaded). */
  claimed: boolean;
  /** Paths to upload, manifest last; undefined until the directory is listed. */
  files?: string[];
  done: number;
  promise: Promise<UploadedFile[]>;
}

/** `<prefix><encoded stream id>/<path>`: a stream id with `/`, `+` or `=` never splits the key. */
export function objectKey(prefix: string, rtmsStreamId: string, path: string): string {
  return `${prefix}${safeName(rtmsStreamId)}/${path}`;
}

export class StorageDestination implements Destination {
  readonly name: string;
  readonly type: DestinationType;
  readonly #o: StorageDestinationOptions;
  readonly #store: ObjectStore;
  readonly #deps: StorageDeps;
  readonly #journal: UploadJournal;
  readonly #maxAgeMs: number;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #concurrency: number;
  readonly #lockStaleMs: number;
  readonly #rescanMs: number;
  #timers: NodeJS.Timeout[] = [];
  readonly #jobs = new Map<string, Job>();
  readonly #abort = new AbortController();
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #prepared = false;
  #closed = false;
  #closing?: Promise<void>;
  readonly #counts = { delivered: 0, retried: 0, failed: 0 };
  /** Streams deleted while this process runs: their uploads stop and never start again. */
  readonly #deleted = new Set<string>();

  constructor(options: StorageDestinationOptions, store: ObjectStore, deps: StorageDeps) {
    this.name = options.name;
    this.type = options.type;
    this.#o = options;
    this.#store = store;
    this.#deps = deps;
    this.#lockStaleMs = options.lockStaleMs ?? 60_000;
    this.#rescanMs = options.rescanMs ?? 60_000;
    this.#journal = new UploadJournal(deps.dataDir, options.name, this.#lockStaleMs);
    this.#maxAgeMs = (options.maxAgeHours ?? 24) * 3_600_000;
    this.#retryMinMs = options.retryMinMs ?? 1000;
    this.#retryMaxMs = options.retryMaxMs ?? 60_000;
    this.#concurrency = Math.max(1, options.concurrency ?? 2);
  }

  matches(stream: DeliveryStream, eventType?: DeliveryEventType): boolean {
    return matchesFilter(this.#o.match, stream, eventType);
  }

  /**
   * Resumes every unfinished upload the journal holds (a previous process stopped or crashed), and
   * keeps looking for ones another process sharing the data dir left when it died.
   */
  async start(): Promise<void> {
    if (this.#closed || this.#timers.length) return;
    await this.#resume();
    const rescan = setInterval(() => void this.#resume().catch((err) => this.#deps.logger?.warn({ destination: this.name, error: describe(err) }, 'could not scan the upload journal')), this.#rescanMs);
    // Locks are refreshed while held, so other processes see this one alive.
    const heartbeat = setInterval(() => {
      for (const [id, job] of this.#jobs) if (job.claimed) void this.#journal.refresh(id).catch(() => {});
    }, Math.max(50, this.#lockStaleMs / 3));
    rescan.unref();
    heartbeat.unref();
    this.#timers.push(rescan, heartbeat);
  }

  async #resume(): Promise<void> {
    for (const entry of await this.#journal.all()) {
      const id = entry.info.rtmsStreamId;
      if (this.#closed || entry.failedAt !== undefined || this.#jobs.has(id) || this.#deleted.has(id)) continue;
      // Held by another live process (sharing this data dir): its upload, not ours.
      if (!(await this.#journal.claim(id)) || this.#jobs.has(id) || this.#closed) continue;
      this.#deps.logger?.info({ destination: this.name, rtmsStreamId: id, uploaded: Object.keys(entry.uploaded).length }, 'resuming an unfinished upload');
      const job = this.#schedule(entry, false, true);
      job.promise.then(
        (files) => this.#deps.onResumedUpload?.({ info: entry.info, dir: entry.dir }, files),
        () => {}, // reported where it failed
      );
    }
  }

  /**
   * Uploads a finished recording. Returns at once with a promise that resolves once every file is
   * uploaded and verified; a storage outage only delays it (retried until the max age). Rejects with
   * a {@link DeliveryError}: `DELIVERY_UPLOAD_FAILED` (max age passed), `DELIVERY_SOURCE_MISSING`
   * (the local recording is gone), `DELIVERY_CLOSED` (closed first; `start()` of the next process resumes it).
   */
  recordingFinished(recording: FinishedRecording): Promise<UploadedFile[]> {
    if (this.#deleted.has(recording.info.rtmsStreamId)) {
      return Promise.reject(new DeliveryError('DELIVERY_DELETED', `stream ${recording.info.rtmsStreamId} was deleted; nothing to upload to ${this.name}`, { destination: this.name }));
    }
    if (this.#closed) return Promise.reject(new DeliveryError('DELIVERY_CLOSED', `destination ${this.name} is closed; the recording was not queued`, { destination: this.name }));
    // The same stream handed over twice (a hub retry, a resumed job) is one job.
    const running = this.#jobs.get(recording.info.rtmsStreamId);
    if (running) return running.promise;
    return this.#schedule({ version: 1, info: recording.info, dir: recording.dir, queuedAt: Date.now(), uploaded: {} }, true).promise;
  }

  stats(): DestinationStats {
    let queued = 0;
    let oldest = Infinity;
    for (const j of this.#jobs.values()) {
      const left = j.files ? j.files.length - j.done : 1;
      if (left <= 0) continue;
      queued += j.files ? left : 0;
      oldest = Math.min(oldest, j.entry.queuedAt);
    }
    return { queued, ...this.#counts, lagMs: oldest === Infinity ? 0 : Math.max(0, Date.now() - oldest) };
  }

  /** Stops: in-flight requests are aborted, waiting jobs rejected with DELIVERY_CLOSED; the journal keeps them. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      for (const t of this.#timers.splice(0)) clearInterval(t);
      this.#abort.abort();
      for (const wake of this.#waiting.splice(0)) wake();
      await Promise.allSettled([...this.#jobs.values()].map((j) => j.promise));
      this.#store.close();
    })();
    return this.#closing;
  }

  #schedule(entry: JournalEntry, fresh = false, claimed = false): Job {
    const job: Job = { entry, claimed, done: 0, promise: undefined as never };
    job.promise = this.#run(job, fresh).finally(() => this.#jobs.delete(entry.info.rtmsStreamId));
    this.#jobs.set(entry.info.rtmsStreamId, job);
    return job;
  }

  async #run(job: Job, fresh: boolean): Promise<UploadedFile[]> {
    const { info } = job.entry;
    const log = { destination: this.name, rtmsStreamId: info.rtmsStreamId };
    try {
      return await this.#claimedRun(job, fresh, log);
    } finally {
      if (job.claimed) await this.#journal.release(info.rtmsStreamId).catch(() => {});
    }
  }

  async #claimedRun(job: Job, fresh: boolean, log: { destination: string; rtmsStreamId: string }): Promise<UploadedFile[]> {
    const { info } = job.entry;
    try {
      // Another process sharing the data dir may be uploading this stream already: wait for it (or for it to die).
      let delay = this.#retryMinMs;
      while (!job.claimed) {
        this.#checkOpen();
        job.claimed = await this.#journal.claim(info.rtmsStreamId);
        if (!job.claimed) {
          await this.#sleep(delay);
          delay = Math.min(this.#retryMaxMs, delay * 2);
        }
      }
      if (fresh) {
        // A journal left by an earlier process for this stream keeps what it verified (unless it gave up).
        const old = await this.#journal.read(info.rtmsStreamId);
        if (old && old.failedAt === undefined && old.dir === job.entry.dir) job.entry = old;
      }
      job.files = await this.#list(job);
      job.done = job.files.filter((p) => job.entry.uploaded[p]).length;
      // Durable before anything goes out: a crash from here on is resumed by the next start().
      await this.#journal.write(job.entry);
      await this.#slot();
      try {
        const out: UploadedFile[] = [];
        for (const path of job.files) {
          this.#checkOpen();
          this.#checkKept(info.rtmsStreamId);
          out.push(await this.#uploadFile(job, path));
        }
        if (this.#o.deleteLocal) {
          // Every file is uploaded and verified (each one read back) and journaled: the local copy can go.
          await rm(job.entry.dir, { recursive: true, force: true });
        }
        await this.#journal.remove(info.rtmsStreamId);
        this.#deps.logger?.info({ ...log, files: out.length, deletedLocal: this.#o.deleteLocal }, 'recording uploaded');
        return out;
      } finally {
        this.#release();
      }
    } catch (err) {
      if (err instanceof DeliveryError && (err.code === 'DELIVERY_CLOSED' || err.code === 'DELIVERY_DELETED')) throw err;
      const left = job.files ? job.files.length - job.done : 1;
      this.#counts.failed += left;
      job.done = job.files?.length ?? 0;
      const e = err instanceof DeliveryError ? err : new DeliveryError('DELIVERY_UPLOAD_FAILED', `upload of ${info.rtmsStreamId} to ${this.name} failed: ${describe(err)}`, log, { cause: err });
      job.entry.failedAt = Date.now();
      job.entry.error = `${e.code}: ${e.message}`;
      await this.#journal.write(job.entry).catch(() => {});
      const logger = this.#deps.logger;
      (logger?.error ?? logger?.warn)?.call(logger, { ...log, code: e.code, filesFailed: left }, e.message);
      throw e;
    }
  }

  /** The recording's files; when the directory is gone but the journal holds every file (deleted before the journal was), those. */
  async #list(job: Job): Promise<string[]> {
    try {
      return await listRecording(job.entry.dir);
    } catch (err) {
      const known = Object.keys(job.entry.uploaded);
      // deleteLocal removes the directory only after the last file (the manifest) is journaled: then the journal is the whole set.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && this.#o.deleteLocal && known.includes(MANIFEST)) return known.sort((a, b) => (a === MANIFEST ? 1 : b === MANIFEST ? -1 : a < b ? -1 : 1));
      throw new DeliveryError('DELIVERY_SOURCE_MISSING', `recording directory ${job.entry.dir} cannot be read (${describe(err)}); nothing to upload`, { destination: this.name }, { cause: err });
    }
  }

  async #uploadFile(job: Job, path: string): Promise<UploadedFile> {
    const { entry } = job;
    const key = objectKey(this.#o.prefix, entry.info.rtmsStreamId, path);
    const file = join(entry.dir, ...path.split('/'));
    const known = entry.uploaded[path];
    let local: { bytes: number; sha256: string };
    try {
      local = await digestFile(file);
    } catch (err) {
      // Gone after it was uploaded (deleteLocal interrupted by a crash): the journal vouches for it.
      if (known && (err as NodeJS.ErrnoException).code === 'ENOENT') return { path, ...known };
      throw new DeliveryError('DELIVERY_SOURCE_MISSING', `${file} cannot be read (${describe(err)})`, { destination: this.name, path }, { cause: err });
    }
    if (known && known.bytes === local.bytes && known.sha256 === local.sha256) return { path, ...known };

    const result: UploadedFile = { path, url: this.#store.urlOf(key), bytes: local.bytes, sha256: local.sha256 };
    let verified = false;
    await this.#retrying(entry, path, async (signal) => {
      if (!verified) {
        try {
          if (!this.#prepared) {
            await this.#store.prepare(signal);
            this.#prepared = true;
          }
          verified = await this.#putVerified(key, file, path, local, signal);
        } catch (err) {
          this.#prepared = false; // the container may be what went missing: made again on the next attempt
          throw err;
        }
      }
      // In the retried part too: a journal write that fails (disk full) is tried again, not the upload.
      entry.uploaded[path] = { url: result.url, bytes: result.bytes, sha256: result.sha256 };
      await this.#journal.write(entry);
    });
    job.done++;
    this.#counts.delivered++;
    return result;
  }

  /** Uploads unless the object already holds this content, then reads it back; true once the object matches. */
  async #putVerified(key: string, file: string, path: string, local: { bytes: number; sha256: string }, signal: AbortSignal): Promise<true> {
    // Already there with the same content (uploaded before a crash erased the journal, or the answer was lost): not again.
    const remote = await this.#store.head(key, signal);
    if (remote && remote.bytes === local.bytes && remote.sha256 === local.sha256) return true;
    await this.#store.put({ key, file, bytes: local.bytes, sha256: local.sha256, contentType: contentTypeOf(path), signal });
    const back = await this.#store.head(key, signal);
    if (!back || back.bytes !== local.bytes || back.sha256 !== local.sha256) {
      throw new DeliveryError('DELIVERY_VERIFY_FAILED', `${key} read back as ${back ? `${back.bytes} bytes, sha256 ${back.sha256 ?? 'none'}` : 'missing'}, expected ${local.bytes} bytes, sha256 ${local.sha256}`, { path });
    }
    return true;
  }

  /** Runs `attempt` until it succeeds; backoff between failures; gives up past the job's max age. */
  async #retrying(entry: JournalEntry, path: string, attempt: (signal: AbortSignal) => Promise<void>): Promise<void> {
    let delay = this.#retryMinMs;
    let failures = 0;
    for (;;) {
      this.#checkOpen();
      this.#checkKept(entry.info.rtmsStreamId);
      try {
        await attempt(this.#abort.signal);
        if (failures) this.#deps.logger?.info({ destination: this.name, rtmsStreamId: entry.info.rtmsStreamId, path, failures }, 'upload went through after retries');
        return;
      } catch (err) {
        this.#checkOpen();
        if (Date.now() - entry.queuedAt >= this.#maxAgeMs) {
          throw new DeliveryError('DELIVERY_UPLOAD_FAILED', `gave up uploading ${path} of ${entry.info.rtmsStreamId} to ${this.name} after ${Math.round((Date.now() - entry.queuedAt) / 60_000)} min: ${describe(err)}`, { destination: this.name, path }, { cause: err });
        }
        failures++;
        this.#counts.retried++;
        // One warning per outage of this file, not one per attempt.
        if (failures === 1) this.#deps.logger?.warn({ destination: this.name, rtmsStreamId: entry.info.rtmsStreamId, path, error: describe(err) }, 'upload failed; retrying with backoff');
        await this.#sleep(delay * (0.75 + Math.random() * 0.5));
        delay = Math.min(this.#retryMaxMs, delay * 2);
      }
    }
  }

  #checkKept(rtmsStreamId: string): void {
    if (this.#deleted.has(rtmsStreamId)) throw new DeliveryError('DELIVERY_DELETED', `stream ${rtmsStreamId} was deleted; its upload to ${this.name} stopped`, { destination: this.name });
  }

  /**
   * Removes everything this destination holds of a stream: the objects under
   * `<prefix><encoded stream id>/` (listed, so an upload finished long ago or by another process is
   * found too) and the journal entry; an upload in progress stops before its next file. With
   * `dryRun`, only counts. Resolves with how many objects there were.
   */
  async deleteStream(rtmsStreamId: string, dryRun = false): Promise<{ objects: number; journal: number }> {
    const prefix = objectKey(this.#o.prefix, rtmsStreamId, '');
    const signal = AbortSignal.timeout(60_000);
    const journal = (await this.#journal.read(rtmsStreamId)) ? 1 : 0;
    if (dryRun) return { objects: (await this.#store.list(prefix, signal)).length, journal };
    this.#deleted.add(rtmsStreamId);
    if (this.#deleted.size > 10_000) this.#deleted.delete(this.#deleted.values().next().value!);
    const job = this.#jobs.get(rtmsStreamId);
    // A file being uploaded right now finishes (bounded); nothing after it starts.
    if (job) await Promise.race([job.promise.catch(() => {}), new Promise((r) => setTimeout(r, 5000).unref())]);
    const keys = await this.#store.list(prefix, signal);
    await this.#store.remove(keys, signal);
    await this.#journal.forget(rtmsStreamId);
    if (job && this.#jobs.get(rtmsStreamId) === job) {
      // Still uploading after the wait (a slow file): what it puts is removed once it stops.
      void job.promise
        .catch(() => {})
        .then(async () => {
          await this.#store.remove(await this.#store.list(prefix, AbortSignal.timeout(60_000)), AbortSignal.timeout(60_000));
          await this.#journal.forget(rtmsStreamId);
        })
        .catch((err) => this.#deps.logger?.warn({ destination: this.name, rtmsStreamId, error: describe(err) }, 'objects of a deleted stream could not all be removed'));
    }
    return { objects: keys.length, journal };
  }

  #checkOpen(): void {
    if (this.#closed) throw new DeliveryError('DELIVERY_CLOSED', `destination ${this.name} closed before the upload finished; the next start() resumes it`, { destination: this.name });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const signal = this.#abort.signal;
      function done(): void {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async #slot(): Promise<void> {
    while (this.#running >= this.#concurrency) {
      await new Promise<void>((r) => this.#waiting.push(r));
      this.#checkOpen();
    }
    this.#running++;
  }

  #release(): void {
    this.#running--;
    this.#waiting.shift()?.();
  }
}

/** An error as one line, without anything the SDKs may attach (requests, headers, credentials). */
function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const status = (err as { $metadata?: { httpStatusCode?: number }; statusCode?: number }).$metadata?.httpStatusCode ?? (err as { statusCode?: number }).statusCode;
    return [err.name !== 'Error' ? err.name : '', typeof code === 'string' ? code : '', status ? `HTTP ${status}` : '', err.message].filter(Boolean).join(' ');
  }
  return String(err);
}
