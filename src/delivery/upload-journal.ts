/**
 * The upload journal: one small JSON file per recording and destination,
 * `<dataDir>/delivery/uploads/<destination>/<encoded stream id>.json`, naming the files already
 * uploaded and verified (size + SHA-256). It is what lets a restarted process finish a recording
 * without uploading any file twice. Written aside and renamed, so a crash never leaves a torn one.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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

export class UploadJournal {
  readonly dir: string;
  #seq = 0;

  constructor(dataDir: string, destinationName: string) {
    this.dir = join(dataDir, 'delivery', 'uploads', safeName(destinationName));
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
