import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recorder } from '../../src/recorder/index.js';

describe('openrtms inspect', () => {
  it('summarises recordings under a data dir, with durations from the WAV headers', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-inspect-'));
    try {
      const t0 = 1_700_000_000_000;
      const rec = new Recorder({ dataDir, info: { rtmsStreamId: 'abc/+=', product: 'webinar', meetingUuid: 'm==', startedAt: t0 } });
      rec.onJoined({ audio: { codec: 1, sample_rate: 1, channel: 1, data_opt: 1 } });
      for (let i = 0; i < 50; i++) if (i < 20 || i >= 30) rec.onAudio({ userId: 0, userName: '', data: Buffer.alloc(640), timestamp: t0 + i * 20, receivedAt: 0 });
      rec.onTranscript({ userId: 7, userName: 'Ada', text: 'hello', timestamp: t0 + 900, receivedAt: 0 });
      await rec.close();
      const r = spawnSync(process.execPath, ['bin/openrtms.js', 'inspect', dataDir, '--json'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const [report] = JSON.parse(r.stdout);
      assert.equal(report.rtms_stream_id, 'abc/+=');
      assert.match(report.dir, /recordings\/abc%2F%2B%3D$/);
      assert.equal(report.duration_s, 1);
      assert.deepEqual(report.gaps, [{ track: 'mixed', atMs: 400, durationMs: 200 }]);
      const text = spawnSync(process.execPath, ['bin/openrtms.js', 'inspect', dataDir], { encoding: 'utf8' });
      assert.match(text.stdout, /gaps: 1 totalling 0\.20 s/);
      assert.match(text.stdout, /participants: Ada/);
      const bad = spawnSync(process.execPath, ['bin/openrtms.js', 'inspect', join(dataDir, 'nope')], { encoding: 'utf8' });
      assert.equal(bad.status, 2);
      assert.equal(bad.stderr.trim().split('\n').length, 1);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
