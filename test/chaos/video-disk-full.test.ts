/**
 * Chaos: video on a full disk, and video after a crash. A camera track is written to a tmpfs of a
 * few hundred KB that fills up mid-stream and is freed again: the first file must end at its last
 * whole fragment (no hole, no half box) and hold exactly the frames its segment claims, the frames
 * in between are counted as lost and the time as a gap, and a new file starts at the first keyframe
 * once there is room. After a crash mid-fragment, the start-up repair cuts each MP4 back to its last
 * whole box. (Skips the full-disk part where a tmpfs cannot be mounted.)
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadH264 } from '../../src/media/assets.js';
import { VideoTrack } from '../../src/recorder/video-track.js';
import { Recorder } from '../../src/recorder/index.js';
import { mp4WholeLength, repairRecordings } from '../../src/recorder/repair.js';

const mounts: string[] = [];
const dirs: string[] = [];
after(() => {
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const tmp = (tag: string) => {
  const d = mkdtempSync(join(tmpdir(), tag));
  dirs.push(d);
  return d;
};

function tinyDisk(kb: number): { dir: string; fill(leave: number): void; unfill(): void } | string {
  if (process.env.OPENRTMS_CHAOS_NO_TMPFS) return 'OPENRTMS_CHAOS_NO_TMPFS is set';
  const dir = tmp('openrtms-video-disk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    return `cannot mount a tmpfs (${String((err as Error).message).trim()})`;
  }
  mounts.push(dir);
  const filler = join(dir, 'filler');
  const free = () => {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  };
  return { dir, fill: (leave) => writeFileSync(filler, Buffer.alloc(Math.max(0, free() - leave))), unfill: () => rmSync(filler, { force: true }) };
}

/** Top-level boxes of an MP4 file, and the samples its fragments hold (trun sample counts). */
function boxes(file: Buffer): { types: string[]; samples: number } {
  const types: string[] = [];
  let samples = 0;
  const walk = (from: number, to: number, depth: number) => {
    for (let pos = from; pos + 8 <= to; ) {
      const size = file.readUInt32BE(pos);
      const type = file.toString('latin1', pos + 4, pos + 8);
      assert.ok(size >= 8 && pos + size <= to, `a whole ${JSON.stringify(type)} box at ${pos}`);
      if (depth === 0) types.push(type);
      if (type === 'moof' || type === 'traf') walk(pos + 8, pos + size, depth + 1);
      if (type === 'trun') samples += file.readUInt32BE(pos + 12);
      pos += size;
    }
  };
  walk(0, file.length, 0);
  return { types, samples };
}

const clip = loadH264('camera');
const FRAME_MS = 40;

describe('chaos: video on a full disk', () => {
  it('cuts the file at its last whole fragment, counts the lost frames, records the gap and resumes in a new file at a keyframe', { timeout: 30_000 }, async (t) => {
    const disk = tinyDisk(768);
    if (typeof disk === 'string') return t.skip(disk);
    const errors: string[] = [];
    const track = new VideoTrack((n) => join(disk.dir, `active${n ? `-${n + 1}` : ''}.mp4`), { retryMs: 200, onWriteError: (err) => errors.push((err as { code?: string }).code ?? String(err)) });
    disk.fill(160 * 1024);
    let fed = 0;
    let ts = 1_000_000;
    const feed = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const au = clip.accessUnits[fed % clip.accessUnits.length];
        track.add(au.data, ts);
        ts += FRAME_MS;
        fed++;
        if (i % 5 === 4) await new Promise((r) => setTimeout(r, 2)); // let the writes reach the disk
      }
    };
    // Until the disk refuses a write (bounded).
    for (let k = 0; k < 200 && track.gaps.length === 0; k++) await feed(10);
    assert.ok(track.gaps.length === 1, 'the disk filled up');
    assert.ok(errors.length >= 1 && errors.every((c) => c === 'ENOSPC'), `write errors: ${errors.join(',')}`);
    await feed(30); // still full: lost
    const lostWhileFull = track.lostToWriteErrors;
    assert.ok(lostWhileFull >= 30);
    disk.unfill();
    // Space is back: the first keyframe at least retryMs later starts the next file.
    for (let k = 0; k < 100 && track.segments.length < 2; k++) await feed(5);
    await feed(20);
    await track.close();

    assert.equal(track.segments.length, 2, 'one file before the disk filled, one after');
    const [first, second] = track.segments;
    const a = readFileSync(first.path);
    assert.equal(mp4WholeLength((p, l) => a.subarray(p, p + l), a.length), a.length, 'the first file ends at a whole box');
    const aBoxes = boxes(a);
    assert.deepEqual(aBoxes.types.slice(0, 2), ['ftyp', 'moov']);
    assert.ok(aBoxes.types.filter((x) => x === 'moof').length === aBoxes.types.filter((x) => x === 'mdat').length, 'every fragment has its data');
    assert.equal(aBoxes.samples, first.frames, 'the segment says exactly what the file holds');
    const b = readFileSync(second.path);
    const bBoxes = boxes(b);
    assert.deepEqual(bBoxes.types.slice(0, 2), ['ftyp', 'moov']);
    assert.equal(bBoxes.samples, second.frames);
    assert.ok(second.frames >= 20);
    // The new file starts with a keyframe: its first sample is a sync sample (trun first-sample flags or default).
    const gap = track.gaps[0];
    assert.ok(gap.durationMs !== undefined && gap.durationMs > 0, 'the gap is closed');
    assert.ok(gap.atTs >= 1_000_000 && gap.atTs + gap.durationMs! <= ts);
    // Every frame fed is on disk or counted as lost (the clip starts with a keyframe, so none skipped).
    assert.equal(first.frames + second.frames + track.lostToWriteErrors, fed, `${first.frames} + ${second.frames} + ${track.lostToWriteErrors} = ${fed}`);
    assert.equal(Math.round(gap.atTs - 1_000_000), first.durationMs, 'the gap starts where the first file ends');
  });
});

describe('chaos: video on a full disk, through the Recorder', () => {
  it('the manifest lists both files with the frames they hold, the gap under the video track, and the lost frames', { timeout: 30_000 }, async (t) => {
    const disk = tinyDisk(768);
    if (typeof disk === 'string') return t.skip(disk);
    const info = { rtmsStreamId: 'video-full', product: 'meeting' as const, meetingUuid: 'm-video-full', startedAt: 1_000_000 };
    const recorder = new Recorder({ dataDir: disk.dir, info, manifestMs: 100_000 });
    let ts = 1_000_000;
    let fed = 0;
    const feed = async (n: number) => {
      for (let i = 0; i < n; i++) {
        recorder.onVideo({ userId: 1, userName: 'Ada', data: clip.accessUnits[fed % clip.accessUnits.length].data, timestamp: ts, receivedAt: ts, kind: 'video' });
        ts += FRAME_MS;
        fed++;
        if (i % 5 === 4) await new Promise((r) => setTimeout(r, 2));
      }
    };
    await feed(5);
    await new Promise((r) => setTimeout(r, 50));
    disk.fill(120 * 1024);
    for (let k = 0; k < 200 && recorder.stats.writeErrors === 0; k++) await feed(10);
    assert.ok(recorder.stats.writeErrors > 0, 'the disk filled up');
    await feed(20);
    disk.unfill();
    await feed(60);
    await recorder.close();
    const manifest = JSON.parse(readFileSync(join(recorder.dir, 'manifest.json'), 'utf8')) as {
      files: { path: string; kind: string; frames?: number; duration_ms: number }[];
      gaps: { track: string; atMs: number; durationMs: number }[];
      counts: Record<string, number>;
    };
    const videos = manifest.files.filter((f) => f.kind === 'video');
    assert.deepEqual(videos.map((f) => f.path), ['video/active.mp4', 'video/active-2.mp4']);
    for (const v of videos) {
      const file = readFileSync(join(recorder.dir, v.path));
      assert.equal(boxes(file).samples, v.frames, `${v.path}: the manifest says what the file holds`);
    }
    const gaps = manifest.gaps.filter((g) => g.track === 'video/active');
    assert.equal(gaps.length, 1);
    assert.ok(gaps[0].durationMs > 0);
    assert.equal(gaps[0].atMs, videos[0].duration_ms, 'the gap starts where the first file ends');
    assert.ok(manifest.counts.video_lost_write_errors > 0);
    assert.equal(videos[0].frames! + videos[1].frames! + manifest.counts.video_lost_write_errors, fed);
    assert.ok(manifest.counts.write_errors > 0);
  });
});

describe('chaos: video after a crash', () => {
  it('start-up repair cuts an MP4 that ends in half a fragment, or in a fragment without its data, back to the last whole box', { timeout: 30_000 }, async () => {
    const src = tmp('openrtms-video-crash-src-');
    const track = new VideoTrack((n) => join(src, `v${n}.mp4`));
    for (let i = 0; i < 60; i++) track.add(clip.accessUnits[i % clip.accessUnits.length].data, 1000 + i * FRAME_MS);
    await track.close();
    const whole = readFileSync(join(src, 'v0.mp4'));
    const { types } = boxes(whole);
    assert.ok(types.includes('moof'));
    const dataDir = tmp('openrtms-video-crash-');
    const video = join(dataDir, 'recordings', 'stream-1', 'video');
    mkdirSync(video, { recursive: true });
    mkdirSync(join(dataDir, 'recordings', 'stream-1', 'share'), { recursive: true });
    const half = join(video, 'active.mp4');
    copyFileSync(join(src, 'v0.mp4'), half);
    // Half of a fragment: a moof header and some of its bytes, as a kill mid-write leaves it.
    const moofAt = whole.indexOf(Buffer.from('moof')) - 4;
    appendFileSync(half, whole.subarray(moofAt, moofAt + 100));
    const noData = join(dataDir, 'recordings', 'stream-1', 'share', 'share.mp4');
    copyFileSync(join(src, 'v0.mp4'), noData);
    appendFileSync(noData, whole.subarray(moofAt, moofAt + whole.readUInt32BE(moofAt))); // a whole moof, its mdat never written
    const healthy = join(video, 'healthy.mp4');
    copyFileSync(join(src, 'v0.mp4'), healthy);
    const report = await repairRecordings(dataDir);
    assert.deepEqual(report.repairedMp4s.sort(), [join('stream-1', 'share', 'share.mp4'), join('stream-1', 'video', 'active.mp4')]);
    for (const f of [half, noData, healthy]) {
      assert.equal(statSync(f).size, whole.length, f);
      assert.ok(readFileSync(f).equals(whole));
    }
  });
});
