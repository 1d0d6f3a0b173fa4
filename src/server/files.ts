/**
 * Serves a stream's recording files: a JSON listing at .../files, each file with its content type
 * and HTTP Range support (so audio plays and seeks in the browser). Paths cannot leave the
 * stream's directory.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
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

/** A file vanishing while it is listed (the recorder renames its manifest into place) is skipped, not an error. */
const gone = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

async function list(dir: string, base = dir): Promise<{ path: string; bytes: number }[]> {
  const out: { path: string; bytes: number }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.endsWith('.tmp')) continue; // written aside, about to be renamed over the real file
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      out.push(...(await list(full, base).catch((err) => (gone(err) ? [] : Promise.reject(err)))));
      continue;
    }
    const info = await stat(full).catch((err) => (gone(err) ? undefined : Promise.reject(err)));
    if (info?.isFile()) out.push({ path: relative(base, full).split(sep).join('/'), bytes: info.size });
  }
  return out;
}

/**
 * Answers a request for a stream's recording: the listing, or one file. Always answers: the caller
 * has handed over the raw response, so an error left to propagate would leave the client waiting.
 */
export async function serveRecording(req: IncomingMessage, res: ServerResponse, dataDir: string, streamId: string, file: string): Promise<void> {
  try {
    await answer(req, res, dataDir, streamId, file);
  } catch (err) {
    if (!res.headersSent) error(res, 500, 'FILES_UNAVAILABLE', `cannot read the recording of stream ${streamId}: ${(err as Error).message}`);
    else res.destroy();
  }
}

async function answer(req: IncomingMessage, res: ServerResponse, dataDir: string, streamId: string, file: string): Promise<void> {
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
    await send(createReadStream(target, { start, end }), res);
    return;
  }
  res.writeHead(200, { 'content-type': type, 'content-length': info.size, 'accept-ranges': 'bytes' });
  await send(createReadStream(target), res);
}

/** Streams a file out; a read error or a client that goes away ends the response instead of hanging it. */
async function send(from: ReadStream, res: ServerResponse): Promise<void> {
  await pipeline(from, res).catch(() => {});
}
