/**
 * Crash recovery: after a SIGKILL or power loss a WAV header may lag the data written after it
 * (at most one flush interval). On start, every recording's WAV headers are rewritten from the file
 * sizes and manifests that never completed are marked incomplete.
 */
import { open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { wavHeader } from '../media/wav.js';

export interface RepairReport {
  streams: number;
  repairedWavs: string[];
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

/** Repairs every recording under `<dataDir>/recordings`. Safe to run on healthy recordings. */
export async function repairRecordings(dataDir: string): Promise<RepairReport> {
  const root = join(dataDir, 'recordings');
  const report: RepairReport = { streams: 0, repairedWavs: [], incomplete: [] };
  const streams = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const s of streams) {
    if (!s.isDirectory()) continue;
    report.streams++;
    const dir = join(root, s.name);
    const audio = join(dir, 'audio');
    for (const f of await readdir(audio).catch(() => [] as string[])) {
      if (f.endsWith('.wav') && (await repairWav(join(audio, f)))) report.repairedWavs.push(join(s.name, 'audio', f));
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
