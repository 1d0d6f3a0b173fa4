/**
 * Crash recovery: after a SIGKILL or power loss a WAV header may lag the data written after it
 * (at most one flush interval), and an MP4 may end in half a fragment. On start, every recording's
 * WAV headers are rewritten from the file sizes, MP4s are cut back to their last whole box, and
 * manifests that never completed are marked incomplete.
 */
import { open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { wavHeader } from '../media/wav.js';

export interface RepairReport {
  streams: number;
  repairedWavs: string[];
  /** MP4 files cut back to their last whole box (a crash mid-fragment). */
  repairedMp4s: string[];
  incomplete: string[];
}

async function repairWav(path: string): Promise<boolean> {
  const fh = await open(path, 'r+');
  try {
    const size = (await fh.stat()).size;
    if (size < 44) return false;
    const header = Buffer.alloc(44);
    await fh.read(header, 0, 44, 0);
    if (header.toString('ascii', 0, 4) !== 'RIFF') return false;
    const channels = header.readUInt16LE(22) || 1;
    const rate = header.readUInt32LE(24) || 16000;
    const data = (size - 44) & ~(channels * 2 - 1);
    if (header.readUInt32LE(40) === data && header.readUInt32LE(4) === 36 + data) return false;
    await fh.write(wavHeader(rate, channels, data), 0, 44, 0);
    if (size - 44 !== data) await fh.truncate(44 + data); // drop a torn last sample
    return true;
  } finally {
    await fh.close();
  }
}

/**
 * Where a (fragmented) MP4 stops being whole: the end of its last complete top-level box, dropping
 * a trailing `moof` whose `mdat` never made it. A box with an impossible header (a hole of zeros, a
 * size past the end of the file) ends the file there. Pure, for tests.
 */
export function mp4WholeLength(head: (position: number, length: number) => Buffer, size: number): number {
  let pos = 0;
  let lastMoof = -1;
  while (pos + 8 <= size) {
    const h = head(pos, 16);
    let boxSize = h.readUInt32BE(0);
    const type = h.toString('latin1', 4, 8);
    if (boxSize === 1) {
      if (h.length < 16) break;
      boxSize = Number(h.readBigUInt64BE(8));
    }
    if (!/^[a-z0-9 ]{4}$/i.test(type) || boxSize < 8 || pos + boxSize > size) break;
    lastMoof = type === 'moof' ? pos : -1;
    pos += boxSize;
  }
  return lastMoof >= 0 ? lastMoof : pos;
}

/** Cuts an MP4 back to its whole boxes (a crash mid-fragment leaves half a box at the end). */
async function repairMp4(path: string): Promise<boolean> {
  const fh = await open(path, 'r+');
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.alloc(16);
    const heads = new Map<number, Buffer>();
    // Box headers are read one at a time: an MP4 may be gigabytes.
    for (let pos = 0; pos + 8 <= size; ) {
      const { bytesRead } = await fh.read(buf, 0, 16, pos);
      const h = Buffer.from(buf.subarray(0, bytesRead));
      heads.set(pos, h);
      let boxSize = h.readUInt32BE(0);
      if (boxSize === 1 && h.length >= 16) boxSize = Number(h.readBigUInt64BE(8));
      if (boxSize < 8) break;
      pos += boxSize;
    }
    const whole = mp4WholeLength((p) => heads.get(p) ?? Buffer.alloc(16), size);
    if (whole === size) return false;
    await fh.truncate(whole);
    return true;
  } finally {
    await fh.close();
  }
}

/** Repairs every recording under `<dataDir>/recordings`. Safe to run on healthy recordings. */
export async function repairRecordings(dataDir: string): Promise<RepairReport> {
  const root = join(dataDir, 'recordings');
  const report: RepairReport = { streams: 0, repairedWavs: [], repairedMp4s: [], incomplete: [] };
  const streams = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const s of streams) {
    if (!s.isDirectory()) continue;
    report.streams++;
    const dir = join(root, s.name);
    const audio = join(dir, 'audio');
    for (const f of await readdir(audio).catch(() => [] as string[])) {
      if (f.endsWith('.wav') && (await repairWav(join(audio, f)))) report.repairedWavs.push(join(s.name, 'audio', f));
    }
    for (const sub of ['video', 'share']) {
      for (const f of await readdir(join(dir, sub)).catch(() => [] as string[])) {
        if (f.endsWith('.mp4') && (await repairMp4(join(dir, sub, f)).catch(() => false))) report.repairedMp4s.push(join(s.name, sub, f));
      }
    }
    const manifestPath = join(dir, 'manifest.json');
    const manifest = await readFile(manifestPath, 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>).catch(() => undefined);
    if (manifest && manifest.complete !== true && manifest.incomplete !== true) {
      manifest.incomplete = true;
      manifest.repaired_at = new Date().toISOString();
      await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
      report.incomplete.push(s.name);
    } else if (!manifest && (await stat(dir).catch(() => undefined))) report.incomplete.push(s.name);
  }
  return report;
}
