// Serial (runs alone after the parallel phase): it measures wall-clock loss after a SIGKILL, which a loaded machine inflates.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWav } from '../../src/media/wav.js';
import { repairRecordings } from '../../src/recorder/repair.js';

describe('crash safety', () => {
  it('after SIGKILL the recording is readable once repaired, and at most the last second is lost', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-kill-'));
    try {
      const child = spawn(process.execPath, ['bin/openrtms.js', 'demo', '--port', '0', '--duration', '60', '--data-dir', dataDir]);
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const exited = new Promise((r) => child.on('exit', r));
      const recordings = join(dataDir, 'recordings');
      let wav = '';
      for (let i = 0; i < 300 && !wav; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const [stream] = existsSync(recordings) ? readdirSync(recordings) : [];
        if (stream && existsSync(join(recordings, stream, 'audio', 'mixed.wav'))) wav = join(recordings, stream, 'audio', 'mixed.wav');
      }
      assert.ok(wav, `recording started; output: ${out}`);
      await new Promise((r) => setTimeout(r, 4000));
      const manifestBefore = JSON.parse(readFileSync(join(wav, '..', '..', 'manifest.json'), 'utf8'));
      const killedAt = Date.now();
      child.kill('SIGKILL');
      await exited;
      const report = await repairRecordings(dataDir);
      assert.equal(report.streams, 1);
      assert.equal(report.incomplete.length, 1, 'the manifest is marked incomplete');
      const { samples, sampleRate } = parseWav(readFileSync(wav));
      assert.equal(statSync(wav).size, 44 + samples.length * 2, 'header matches the data after repair');
      const recordedMs = (samples.length / sampleRate) * 1000;
      const wallMs = killedAt - Date.parse(manifestBefore.started_at);
      assert.ok(wallMs - recordedMs <= 1000, `lost ${Math.round(wallMs - recordedMs)} ms (recorded ${Math.round(recordedMs)} of ${wallMs} ms)`);
      const manifest = JSON.parse(readFileSync(join(wav, '..', '..', 'manifest.json'), 'utf8'));
      assert.equal(manifest.incomplete, true);
      assert.deepEqual((await repairRecordings(dataDir)).repairedWavs, [], 'repair is idempotent');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
