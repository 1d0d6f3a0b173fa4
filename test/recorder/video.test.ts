import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recorder } from '../../src/recorder/index.js';
import { attachPipeline } from '../../src/pipeline/index.js';
import { validateScenario } from '../../src/emulator/scenario.js';
import { Codec } from '../../src/protocol/index.js';
import { nalUnits, spsDimensions, nalType } from '../../src/media/h264.js';
import { loadH264 } from '../../src/media/assets.js';
import { runEmulated } from '../helpers/harness.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const hasFfprobe = (() => {
  try {
    execFileSync('ffprobe', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function probe(file: string): { frames: number; duration: number; width: number; height: number } {
  const out = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,width,height:format=duration', '-of', 'json', file], { encoding: 'utf8' }));
  return { frames: Number(out.streams[0].nb_read_frames), duration: Number(out.format.duration), width: out.streams[0].width, height: out.streams[0].height };
}

const scenario = validateScenario({
  name: 'video',
  duration_s: 6,
  participants: [{ user_id: 1, user_name: 'Ada' }, { user_id: 2, user_name: 'Grace' }],
  timeline: [
    { at: 0.5, type: 'speak', user_id: 1, text: 'synthetic line', duration: 2 },
    { at: 1, type: 'share_start', user_id: 2 },
    { at: 5, type: 'share_stop', user_id: 2 },
  ],
});

async function record(clientOpts: Parameters<typeof runEmulated>[1]) {
  const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-video-'));
  dirs.push(dataDir);
  let recorder: Recorder | undefined;
  let pipeline: ReturnType<typeof attachPipeline> | undefined;
  const result = await runEmulated({ scenario, fast: true }, clientOpts, {
    onJoined: (j) => {
      const info = { rtmsStreamId: String(j.payload.rtms_stream_id), product: 'meeting' as const, meetingUuid: String(j.payload.meeting_uuid), startedAt: Date.now() };
      recorder = new Recorder({ dataDir, info });
      pipeline = attachPipeline(j.client, info, [recorder]);
    },
  });
  await pipeline!.close();
  return { ...result, dir: recorder!.dir };
}

describe('H.264 helpers', () => {
  it('reads the dimensions from the SPS of both bundled clips', () => {
    for (const [name, w, h] of [['camera', 640, 360], ['share', 1280, 720]] as const) {
      const sps = nalUnits(loadH264(name).accessUnits[0].data).find((u) => nalType(u) === 7)!;
      assert.deepEqual([spsDimensions(sps).width, spsDimensions(sps).height], [w, h]);
    }
  });
});

describe('video recording', () => {
  it('camera and screen share become MP4 files with every frame and the right duration', async () => {
    const { dir, summary } = await record({ media: ['audio', 'video', 'deskshare'] });
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const camera = manifest.files.find((f: { path: string }) => f.path === 'video/active.mp4');
    const share = manifest.files.find((f: { path: string }) => f.path === 'share/share.mp4');
    assert.ok(camera && share, JSON.stringify(manifest.files));
    assert.equal(camera.frames, summary.sent.video);
    assert.equal(share.frames, summary.sent.share);
    assert.deepEqual([camera.width, camera.height, share.width, share.height], [640, 360, 1280, 720]);
    if (!hasFfprobe) return; // the manifest checks above still ran
    const c = probe(join(dir, 'video/active.mp4'));
    assert.equal(c.frames, summary.sent.video, 'ffprobe counts every camera frame');
    assert.ok(Math.abs(c.duration - 6) <= 0.1, `camera duration ${c.duration} s`);
    const s = probe(join(dir, 'share/share.mp4'));
    assert.equal(s.frames, summary.sent.share);
    assert.ok(Math.abs(s.duration - 4) <= 0.25, `share duration ${s.duration} s`);
  });

  it('JPG frames are written as files', async () => {
    const { dir, summary } = await record({ media: ['video'], video: { codec: Codec.JPG, fps: 5 } });
    const files = readdirSync(join(dir, 'frames', 'video'));
    assert.equal(files.length, summary.sent.video);
    assert.deepEqual([...readFileSync(join(dir, 'frames', 'video', files[0])).subarray(0, 2)], [0xff, 0xd8], 'JPEG');
  });
});
