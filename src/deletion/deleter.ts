/**
 * StreamDeleter: removes one meeting's stream from everywhere it went — the store (rows and search
 * index), the recording directory, live caches (thumbnails, alerts, the registry's closed entry),
 * delivery state (webhook outbox rows, upload journal) and the objects uploaded to S3 / Azure Blob —
 * and appends one audit line (who, what, how much; never content) to `<dataDir>/audit/deletions.jsonl`
 * and the log. `DELETE /api/streams/:id`, `openrtms delete` and the retention sweep all come here.
 *
 * A live stream is refused (STREAM_LIVE): stop it first (`POST /api/control` action stop, or the
 * meeting ends), then delete. Every step is idempotent, so a deletion that failed half-way
 * (DELETION_INCOMPLETE: object storage unreachable) is finished by running it again.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { DeletionError } from '../errors.js';
import { safeName } from '../recorder/paths.js';
import type { Store, StreamRows } from '../store/types.js';

/** Who asked for a deletion. Never a token itself: `tokenId` is a short hash of it. */
export type DeletionActor =
  | { kind: 'api'; tokenId?: string; ip?: string }
  | { kind: 'cli'; user: string; host: string }
  | { kind: 'retention'; policy: string };

/** What delivery holds of a stream (DeliveryHub satisfies it). */
export interface DeliveryState {
  deleteStream(rtmsStreamId: string, dryRun?: boolean): Promise<{ outbox: number; objects: Record<string, number>; journals: number; failed: Record<string, string> }>;
}

/** An in-memory cache holding something of a stream; `forget` says how many entries it dropped. */
export interface StreamCache {
  forget(rtmsStreamId: string): number | Promise<number>;
}

export interface StreamDeleterOptions {
  store: Store;
  /** Recordings live in `<dataDir>/recordings/<stream>/`; the audit file in `<dataDir>/audit/`. */
  dataDir?: string;
  delivery?: DeliveryState;
  caches?: StreamCache[];
  /** The stream's live state when a client still holds it (registry, cluster view); undefined when it is not live. */
  liveState?(rtmsStreamId: string): string | undefined;
  /** Waits until a stream that just stopped has flushed its recording (the registry's pipeline close). */
  settled?(rtmsStreamId: string): Promise<void>;
  logger?: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** Default `<dataDir>/audit/deletions.jsonl`. */
  auditFile?: string;
  now?: () => number;
}

export interface DeletionReport {
  rtmsStreamId: string;
  dryRun: boolean;
  product?: string;
  startedAt?: number;
  stoppedAt?: number;
  /** What was (or, with dryRun, would be) removed. */
  removed: {
    store: StreamRows | null;
    recordingFiles: number;
    recordingBytes: number;
    outbox: number;
    /** Objects per object-storage destination. */
    objects: Record<string, number>;
    uploadJournals: number;
    cacheEntries: number;
  };
  /** Parts that could not be removed (destination name or `files`) → one-line reason. Empty when complete. */
  failed: Record<string, string>;
}

/** The audit's id of an API token: enough to tell tokens apart, useless to an attacker. */
export function tokenId(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
}

/** The local user, for the CLI's audit lines. */
export function cliActor(): DeletionActor {
  let user = process.env.SUDO_USER || process.env.USER || '';
  try {
    user ||= userInfo().username;
  } catch {
    user ||= 'unknown';
  }
  return { kind: 'cli', user, host: hostname() };
}

async function walk(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const sub = await walk(p);
      files += sub.files;
      bytes += sub.bytes;
    } else {
      files++;
      bytes += await stat(p).then((s) => s.size, () => 0);
    }
  }
  return { files, bytes };
}

export class StreamDeleter {
  readonly auditFile: string | undefined;
  readonly #o: StreamDeleterOptions;
  /** Deletions in progress, by stream: a second request for the same stream joins the first. */
  readonly #running = new Map<string, Promise<DeletionReport>>();

  constructor(o: StreamDeleterOptions) {
    this.#o = o;
    this.auditFile = o.auditFile ?? (o.dataDir ? join(o.dataDir, 'audit', 'deletions.jsonl') : undefined);
  }

  #dir(id: string): string | undefined {
    return this.#o.dataDir ? join(this.#o.dataDir, 'recordings', safeName(id)) : undefined;
  }

  /**
   * Deletes (or with `dryRun` only measures) one stream. Rejects with a DeletionError:
   * STREAM_LIVE (a client still holds it), STREAM_NOT_FOUND (nothing anywhere), DELETION_INCOMPLETE
   * (some part failed; `details.report` says what; run it again to finish).
   */
  delete(rtmsStreamId: string, actor: DeletionActor, options: { dryRun?: boolean } = {}): Promise<DeletionReport> {
    const dryRun = options.dryRun ?? false;
    if (dryRun) return this.#delete(rtmsStreamId, actor, true);
    let p = this.#running.get(rtmsStreamId);
    if (!p) {
      p = this.#delete(rtmsStreamId, actor, false).finally(() => this.#running.delete(rtmsStreamId));
      this.#running.set(rtmsStreamId, p);
    }
    return p;
  }

  async #delete(id: string, actor: DeletionActor, dryRun: boolean): Promise<DeletionReport> {
    const live = this.#o.liveState?.(id);
    if (live !== undefined) {
      throw new DeletionError('STREAM_LIVE', `stream ${id} is live (${live}); stop it first (POST /api/control {"action":"stop"} or end the meeting), then delete it`, { rtmsStreamId: id, state: live });
    }
    await this.#o.settled?.(id);
    const detail = await this.#o.store.getStream(id);
    const report: DeletionReport = {
      rtmsStreamId: id,
      dryRun,
      ...(detail ? { product: detail.product, startedAt: detail.startedAt, ...(detail.stoppedAt !== undefined ? { stoppedAt: detail.stoppedAt } : {}) } : {}),
      removed: { store: null, recordingFiles: 0, recordingBytes: 0, outbox: 0, objects: {}, uploadJournals: 0, cacheEntries: 0 },
      failed: {},
    };
    const dir = this.#dir(id);
    const onDisk = dir && existsSync(dir) ? await walk(dir) : undefined;
    // Delivery first: an upload in progress stops before the files it reads disappear.
    const delivered = await this.#o.delivery?.deleteStream(id, dryRun);
    if (delivered) {
      report.removed.outbox = delivered.outbox;
      report.removed.objects = delivered.objects;
      report.removed.uploadJournals = delivered.journals;
      Object.assign(report.failed, delivered.failed);
    }
    report.removed.store = dryRun ? ((await this.#o.store.streamRows(id)) ?? null) : ((await this.#o.store.deleteStream(id)) ?? null);
    if (onDisk) {
      report.removed.recordingFiles = onDisk.files;
      report.removed.recordingBytes = onDisk.bytes;
      if (!dryRun) await rm(dir!, { recursive: true, force: true }).catch((err: Error) => (report.failed.files = err.message.split('\n')[0]));
    }
    if (!dryRun) {
      for (const c of this.#o.caches ?? []) {
        try {
          report.removed.cacheEntries += await c.forget(id);
        } catch (err) {
          report.failed.caches = (err as Error).message.split('\n')[0];
        }
      }
    }
    const found =
      report.removed.store !== null ||
      onDisk !== undefined ||
      report.removed.outbox > 0 ||
      report.removed.uploadJournals > 0 ||
      report.removed.cacheEntries > 0 ||
      Object.values(report.removed.objects).some((n) => n > 0) ||
      Object.keys(report.failed).length > 0;
    if (!found) throw new DeletionError('STREAM_NOT_FOUND', `no stream ${id}: nothing of it in the store, the recordings or the destinations`, { rtmsStreamId: id });
    await this.#audit(report, actor);
    if (Object.keys(report.failed).length) {
      throw new DeletionError('DELETION_INCOMPLETE', `stream ${id} was only partly deleted (${Object.entries(report.failed).map(([k, v]) => `${k}: ${v}`).join('; ')}); run the deletion again to finish`, { report });
    }
    return report;
  }

  /** One JSON line per deletion (dry runs are only logged): counts and ids, no names, no text. */
  async #audit(report: DeletionReport, actor: DeletionActor): Promise<void> {
    const line = { at: new Date((this.#o.now ?? Date.now)()).toISOString(), action: report.dryRun ? 'delete-dry-run' : 'delete', actor, ...report };
    const complete = Object.keys(report.failed).length === 0;
    this.#o.logger?.[complete ? 'info' : 'warn']({ audit: 'stream-deletion', ...line }, report.dryRun ? 'stream deletion (dry run)' : complete ? 'stream deleted' : 'stream partly deleted');
    if (report.dryRun || !this.auditFile) return;
    await mkdir(join(this.auditFile, '..'), { recursive: true });
    // 'a': O_APPEND, every line lands whole at the end, even with several processes sharing the data dir.
    await appendFile(this.auditFile, `${JSON.stringify(line)}\n`, { flag: 'a', mode: 0o600 });
  }
}
