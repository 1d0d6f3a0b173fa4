/**
 * The files of a finished recording directory, in upload order (manifest.json last, so a consumer
 * that waits for the manifest sees a complete set), and their size and SHA-256.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';

export const MANIFEST = 'manifest.json';

/** A file of a recording: its path inside the directory, `/`-separated. */
export interface LocalFile {
  path: string;
  bytes: number;
  sha256: string;
}

/**
 * Every regular file under `dir`, relative and `/`-separated, sorted, manifest.json last.
 * `*.tmp` files are a writer's half-done renames, never part of a recording.
 */
export async function listRecording(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path);
      else if (e.isFile() && !e.name.endsWith('.tmp')) out.push(path);
    }
  };
  await walk('');
  out.sort();
  const i = out.indexOf(MANIFEST);
  if (i >= 0) out.push(...out.splice(i, 1));
  return out;
}

/** Size and hex SHA-256 of a file, read as a stream (recordings can be gigabytes). */
export function digestFile(file: string): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    createReadStream(file)
      .on('data', (chunk) => {
        bytes += chunk.length;
        hash.update(chunk);
      })
      .on('error', reject)
      .on('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
  });
}

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.wav': 'audio/wav',
  '.mp4': 'video/mp4',
  '.vtt': 'text/vtt',
  '.srt': 'application/x-subrip',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
};

/** Content type for a recording file, so a browser opening the object's URL plays or shows it. */
export function contentTypeOf(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}
