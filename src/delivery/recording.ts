/** The files of a finished local recording, for `recording.ready` without object storage. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { UploadedFile } from './types.js';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...(await walk(p)));
    else if (d.isFile()) out.push(p);
  }
  return out;
}

/** Every file under `dir`, with the API URL that serves it, its size and SHA-256; sorted by path. */
export async function localRecordingFiles(dir: string, rtmsStreamId: string): Promise<UploadedFile[]> {
  const files = (await walk(dir)).sort();
  const out: UploadedFile[] = [];
  for (const file of files) {
    const path = relative(dir, file).split(sep).join('/');
    const [st, sha256] = await Promise.all([stat(file), sha256File(file)]);
    out.push({ path, url: `/api/streams/${encodeURIComponent(rtmsStreamId)}/files/${path.split('/').map(encodeURIComponent).join('/')}`, bytes: st.size, sha256 });
  }
  return out;
}
