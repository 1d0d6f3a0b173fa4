/**
 * The upload journal: one small JSON file per recording and destination,
 * `<dataDir>/delivery/uploads/<destination>/<encoded stream id>.json`, naming the files already
 * uploaded and verified (size + SHA-256). It is what lets a restarted process finish a recording
 * without uploading any file twice. Written aside and renamed, so a crash never leaves a torn one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { StreamInfo } from '../pipeline/types.js';
import { safeName } from '../recorder/paths.js';
import type { UploadedFile } from './types.js';

export interface JournalEntry {
  version: 1;
  info: StreamInfo;
  /** The local recording directory. */
  dir: string;
  /** When the recording was first handed over (ms): the max age counts from here, across restarts. */
  queuedAt: number;
  /** Files uploaded and verified, by path inside the recording. */
  uploaded: Record<string, Omit<UploadedFile, 'path'>>;
  /** Set when the upload gave up (max age, local file gone): not resumed by `start()`. */
  failedAt?: number;
  error?: string;
}

/** Who holds a recording's upload: `<host>:<pid>:<random>`, and when it last said so. */
interface Lock {
  owner: string;
  host: string;
  pid: number;
  at: number;
}

export class UploadJournal {
  readonly dir: string;
  /** This instance, as lock owner: unique even for a restarted container that got the same pid. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly #staleMs: number;
  #seq = 0;

  /**
   * `staleMs`: a lock not refreshed for this long belongs to a dead process (default 60 s); holders
   * refresh theirs every third of it ({@link UploadJournal.refresh}).
   */
  constructor(dataDir: string, destinationName: string, staleMs = 60_000) {
    this.dir = join(dataDir, 'delivery', 'uploads', safeName(destinationName));
    this.#staleMs = staleMs;
  }

  #lockFile(rtmsStreamId: string): string {
    return join(this.dir, `${safeName(rtmsStreamId)}.lock`);
  }

  /**
   * Takes the recording's upload for this process, unless another live one holds it. Several
   * processes sharing a data dir (a cluster on a shared volume) then never upload the same recording
   * at once, and a dead one's unfinished uploads are taken over. Best effort: two processes that
   * find the same stale lock in the same instant may both upload it, which costs a duplicate, never a loss.
   */
  async claim(rtmsStreamId: string): Promise<boolean> {
    await mkdir(this.dir, { recursive: true });
    const file = this.#lockFile(rtmsStreamId);
    const mine: Lock = { owner: this.owner, host: hostname(), pid: process.pid, at: Date.now() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(file, JSON.stringify(mine), { flag: 'wx' });
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = await readFile(file, 'utf8').then((t) => JSON.parse(t) as Lock, () => undefined);
      if (held?.owner === this.owner) return true;
      if (held && !this.#stale(held)) return false;
      // Unreadable: being written this instant (fresh), or torn by a crash long ago (stale).
      if (!held && (await stat(file).then((st) => Date.now() - st.mtimeMs < this.#staleMs, () => false))) return false;
      await rm(file, { force: true });
    }
    return false;
  }

  #stale(l: Lock): boolean {
    if (Date.now() - l.at > this.#staleMs) return true;
    if (l.host !== hostname()) return false;
    // Same machine: a holder whose process is gone, or an earlier life of this very pid (a restarted container), is dead now.
    if (l.pid === process.pid) return true;
    try {
      process.kill(l.pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }

  /** Says again that this process holds the lock (every third of the stale time). */
  async refresh(rtmsStreamId: string): Promise<void> {
    const tmp = join(this.dir, `.${safeName(rtmsStreamId)}.lock.${process.pid}.${++this.#seq}.tmp`);
    await writeFile(tmp, JSON.stringify({ owner: this.owner, host: hostname(), pid: process.pid, at: Date.now() } satisfies Lock));
    await rename(tmp, this.#lockFile(rtmsStreamId));
  }

  async release(rtmsStreamId: string): Promise<void> {
    const file = this.#lockFile(rtmsStreamId);
    const held = await readFile(file, 'utf8').then((t) => JSON.parse(t) as Lock, () => undefined);
    if (held?.owner === this.owner) await rm(file, { force: true });
  }

  #file(rtmsStreamId: string): string {
    return join(this.dir, `${safeName(rtmsStreamId)}.json`);
  }

  async read(rtmsStreamId: string): Promise<JournalEntry | undefined> {
    return parse(await readFile(this.#file(rtmsStreamId), 'utf8').catch(() => undefined));
  }

  async write(entry: JournalEntry): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // A name of its own per write: two writes in flight never rename each other's half-written file.
    const tmp = join(this.dir, `.${safeName(entry.info.rtmsStreamId)}.${process.pid}.${++this.#seq}.tmp`);
    await writeFile(tmp, JSON.stringify(entry));
    await rename(tmp, this.#file(entry.info.rtmsStreamId));
  }

  async remove(rtmsStreamId: string): Promise<void> {
    await rm(this.#file(rtmsStreamId), { force: true });
  }

  /** Removes the entry and any lock of the stream, whoever holds it (the stream was deleted). */
  async forget(rtmsStreamId: string): Promise<void> {
    await rm(this.#file(rtmsStreamId), { force: true });
    await rm(this.#lockFile(rtmsStreamId), { force: true });
  }

  /** Every journal entry on disk (unreadable ones, torn by something else than us, are skipped). */
  async all(): Promise<JournalEntry[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: JournalEntry[] = [];
    for (const n of names) {
      if (!n.endsWith('.json') || n.startsWith('.')) continue;
      const e = parse(await readFile(join(this.dir, n), 'utf8').catch(() => undefined));
      if (e) out.push(e);
    }
    return out;
  }
}

function parse(text: string | undefined): JournalEntry | undefined {
  if (text === undefined) return undefined;
  try {
    const e = JSON.parse(text) as JournalEntry;
    if (e.version !== 1 || typeof e.dir !== 'string' || typeof e.info?.rtmsStreamId !== 'string') return undefined;
    e.uploaded ??= {};
    return e;
  } catch {
    return undefined;
  }
}
