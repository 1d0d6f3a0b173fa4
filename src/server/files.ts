/**
 * Serves a stream's recording files: a JSON listing at .../files, each file with its content type
 * and HTTP Range support (so audio plays and seeks in the browser). Paths cannot leave the
 * stream's directory.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, relative, resolve, sep } from 'node:path';
import { safeName } from '../recorder/paths.js';

const TYPES: Record<string, string> = {
  wav: 'audio/wav',
  mp4: 'video/mp4',
  jpg: 'image/jpeg',
  png: 'image/png',
  json: 'application/json',
  jsonl: 'application/x-ndjson',
  vtt: 'text/vtt; charset=utf-8',
  srt: 'application/x-subrip; charset=utf-8',
};

function error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message } }));
}

async function list(dir: string, base = dir): Promise<{ path: string; bytes: number }[]> {
  const out: { path: string; bytes: number }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await list(full, base)));
    else out.push({ path: relative(base, full).split(sep).join('/'), bytes: (await stat(full)).size });
  }
  return out;
}

export async function serveRecording(req: IncomingMessage, res: ServerResponse, dataDir: string, streamId: string, file: string): Promise<void> {
  const root = resolve(dataDir, 'recordings', safeName(streamId));
  const rootStat = await stat(root).catch(() => undefined);
  if (!rootStat?.isDirectory()) return error(res, 404, 'NOT_FOUND', `no recording for stream ${streamId}`);
  if (!file) {
    const files = await list(root);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ files }));
    return;
  }
  const target = resolve(root, file);
  if (target !== root && !target.startsWith(root + sep)) return error(res, 400, 'BAD_PATH', 'path leaves the recording directory');
  const info = await stat(target).catch(() => undefined);
  if (!info?.isFile()) return error(res, 404, 'NOT_FOUND', `no file ${file}`);
  const type = TYPES[target.split('.').pop() ?? ''] ?? 'application/octet-stream';
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  if (range && (range[1] || range[2])) {
    let start = range[1] ? Number(range[1]) : info.size - Number(range[2]);
    let end = range[1] && range[2] ? Number(range[2]) : info.size - 1;
    start = Math.max(0, start);
    end = Math.min(end, info.size - 1);
    if (start > end) {
      res.writeHead(416, { 'content-range': `bytes */${info.size}` }).end();
      return;
    }
    res.writeHead(206, { 'content-type': type, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${info.size}`, 'accept-ranges': 'bytes' });
    createReadStream(target, { start, end }).pipe(res);
    return;
  }
  res.writeHead(200, { 'content-type': type, 'content-length': info.size, 'accept-ranges': 'bytes' });
  createReadStream(target).pipe(res);
}
