import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fragment, initSegment } from '../../src/media/fmp4.js';
import { loadH264 } from '../../src/media/assets.js';
import { nalType, nalUnits } from '../../src/media/h264.js';
import { LiveMediaHub, wsBinaryFrame, type MediaViewerTransport } from '../../src/live/media.js';
import { createRequire } from 'node:module';

/** ws's frame parser (not in its type declarations). */
const { Receiver } = createRequire(import.meta.url)('ws') as { Receiver: new (o: { isServer: boolean }) => import('node:stream').Writable };
import { keyframeMp4 } from '../../src/live/thumbnails.js';
import type { StreamInfo } from '../../src/pipeline/types.js';

/** Top-level (or nested) boxes of an MP4 buffer: type, start, size. */
function boxes(buf: Buffer, from = 0, to = buf.length): { type: string; start: number; size: number }[] {
  const out = [];
  for (let p = from; p + 8 <= to; ) {
    const size = buf.readUInt32BE(p);
    out.push({ type: buf.toString('ascii', p + 4, p + 8), start: p, size });
    assert.ok(size >= 8 && p + size <= to, `box ${buf.toString('ascii', p + 4, p + 8)} fits`);
    p += size;
  }
  return out;
}
const child = (buf: Buffer, parent: { start: number; size: number }, type: string, skip = 8) => boxes(buf, parent.start + skip, parent.start + parent.size).find((b) => b.type === type)!;

const clip = loadH264('camera');
const info: StreamInfo = { rtmsStreamId: 's1', product: 'meeting', meetingUuid: 'm1', startedAt: 0 };

class FakeSocket implements MediaViewerTransport {
  sent: (Buffer | string)[] = [];
  buffered = 0;
  send(d: Buffer | string) {
    this.sent.push(d);
  }
  bufferedAmount() {
    return this.buffered;
  }
  frames() {
    return this.sent.filter((m): m is Buffer => typeof m !== 'string' && m[0] === 2);
  }
}

const video = (i: number, ts: number) => ({ userId: 1, userName: 'A', data: clip.accessUnits[i % clip.accessUnits.length].data, timestamp: ts, receivedAt: ts, kind: 'video' as const });

describe('fragmented MP4 for live H.264', () => {
  const au = clip.accessUnits[0].data;
  const units = nalUnits(au);
  const sps = units.find((u) => nalType(u) === 7)!;
  const pps = units.find((u) => nalType(u) === 8)!;

  it('init segment: ftyp + moov whose avc1 carries the stream SPS in avcC, width and height from the SPS', () => {
    const init = initSegment({ width: 640, height: 360, sps, pps });
    const top = boxes(init);
    assert.deepEqual(top.map((b) => b.type), ['ftyp', 'moov']);
    const moov = top[1];
    assert.deepEqual(boxes(init, moov.start + 8, moov.start + moov.size).map((b) => b.type), ['mvhd', 'trak', 'mvex']);
    const at = init.indexOf('avcC');
    assert.ok(at > 0);
    assert.equal(init[at + 4 + 1], sps[1], 'profile');
    assert.ok(init.subarray(at).includes(Buffer.from(sps)), 'the SPS itself');
    const avc1 = init.lastIndexOf('avc1') - 4; // the sample entry (ftyp names the brand too); the box starts with its size
    assert.equal(init.readUInt16BE(avc1 + 32), 640);
    assert.equal(init.readUInt16BE(avc1 + 34), 360);
  });

  it('fragment: moof whose trun data offset points at the mdat payload, tfdt = decode time', () => {
    const data = Buffer.from([0, 0, 0, 3, 0x65, 1, 2]);
    const f = fragment({ sequence: 7, decodeTime: 123456, duration: 40, key: true, data });
    const [moof, mdat] = boxes(f);
    assert.equal(moof.type, 'moof');
    assert.equal(mdat.type, 'mdat');
    const traf = child(f, moof, 'traf');
    const tfdt = child(f, traf, 'tfdt');
    assert.equal(f[tfdt.start + 8], 1, 'version 1 (64-bit)');
    assert.equal(Number(f.readBigUInt64BE(tfdt.start + 12)), 123456);
    const trun = child(f, traf, 'trun');
    const offset = f.readUInt32BE(trun.start + 16);
    assert.deepEqual(f.subarray(moof.start + offset, moof.start + offset + data.length), data);
    assert.equal(f.readUInt32BE(trun.start + 20), 40, 'duration');
    assert.equal(f.readUInt32BE(trun.start + 24), data.length, 'size');
    assert.equal(f.readUInt32BE(trun.start + 28), 0x02000000, 'sync sample');
    const delta = fragment({ sequence: 8, decodeTime: 0, duration: 40, key: false, data });
    assert.equal(delta.readUInt32BE(delta.indexOf('trun') + 24), 0x01010000, 'non-sync');
  });

  it('a keyframe becomes a one-frame MP4 (stills without ffmpeg); a delta frame does not', () => {
    const mp4 = keyframeMp4(au)!;
    assert.deepEqual(boxes(mp4).map((b) => b.type), ['ftyp', 'moov', 'moof', 'mdat']);
    assert.equal(keyframeMp4(clip.accessUnits[1].data), undefined);
  });
});

describe('LiveMediaHub: live media for viewers', () => {
  it('a new viewer starts at the latest keyframe with the init segment first; later frames follow live', () => {
    const hub = new LiveMediaHub({ batchMs: 0 });
    const sink = hub.sinkFor(info);
    const gop = clip.accessUnits.findIndex((a, i) => i > 0 && a.keyframe);
    assert.ok(gop > 1, 'the clip has a second keyframe');
    for (let i = 0; i < gop + 3; i++) sink.onVideo(video(i, 1000 + i * 40));
    const ws = new FakeSocket();
    sink.watch(ws);
    assert.equal(typeof ws.sent[0], 'string', 'hello first');
    assert.equal(JSON.parse(ws.sent[0] as string).base, 1000);
    const init = ws.sent[1] as Buffer;
    assert.equal(init[0], 1);
    const meta = JSON.parse(init.subarray(4, 4 + init.readUInt16BE(2)).toString());
    assert.deepEqual({ codec: meta.codec.slice(0, 5), width: meta.width, height: meta.height, base: meta.base }, { codec: 'avc1.', width: 640, height: 360, base: 1000 });
    const frames = ws.frames();
    assert.equal(frames.length, 3, 'the keyframe and the two frames after it');
    assert.equal(frames[0][2] & 1, 1, 'starts on a keyframe');
    assert.equal(frames[0].readDoubleBE(4), 1000 + gop * 40);
    sink.onVideo(video(gop + 3, 1000 + (gop + 3) * 40));
    assert.equal(ws.frames().length, 4);
    // The fragment's decode time is the RTMS timestamp minus the base.
    const f = ws.frames()[3].subarray(12);
    const at = f.indexOf('tfdt');
    assert.equal(Number(f.readBigUInt64BE(at + 8)), (gop + 3) * 40);
  });

  it('a slow viewer is dropped to keyframes (counted), never buffers without limit; the others are unaffected', () => {
    const hub = new LiveMediaHub({ maxBufferedBytes: 100_000, batchMs: 0 });
    const sink = hub.sinkFor(info);
    const fast = new FakeSocket();
    const slow = new FakeSocket();
    sink.onVideo(video(0, 0));
    sink.watch(fast);
    sink.watch(slow);
    slow.buffered = 1_000_000; // its socket is backed up
    const n = clip.accessUnits.length;
    for (let i = 1; i < n; i++) sink.onVideo(video(i, i * 40));
    assert.equal(fast.frames().length, n, 'the fast viewer got every frame');
    assert.equal(slow.frames().length, 1, 'the slow one only what it had before it backed up');
    assert.equal(hub.stats.droppedVideo, n - 1);
    // Drained: it resumes on the next keyframe, not on a delta frame.
    slow.buffered = 0;
    sink.onVideo(video(1, n * 40));
    assert.equal(slow.frames().length, 1);
    sink.onVideo(video(0, (n + 1) * 40));
    assert.equal(slow.frames().length, 2);
    assert.equal(slow.frames()[1][2] & 1, 1);
  });

  it('audio: decoded PCM for everyone by default, one speaker when soloed, none when off', () => {
    const hub = new LiveMediaHub({ batchMs: 0 });
    const sink = hub.sinkFor(info);
    const ws = new FakeSocket();
    const v = sink.watch(ws);
    const pcm = Buffer.alloc(640);
    pcm.writeInt16LE(1234, 0);
    const audio = (userId: number, ts: number) => sink.onAudio({ userId, userName: '', data: pcm, timestamp: ts, receivedAt: ts });
    audio(1, 100);
    audio(2, 100);
    v.audio = { mode: 'solo', userId: '2' };
    audio(1, 120);
    audio(2, 120);
    v.audio = { mode: 'off' };
    audio(2, 140);
    const msgs = ws.sent.filter((m): m is Buffer => typeof m !== 'string' && m[0] === 3);
    assert.deepEqual(msgs.map((m) => [m.subarray(16, 16 + m.readUInt16BE(2)).toString(), m.readDoubleBE(8)]), [['1', 100], ['2', 100], ['2', 120]]);
    const m = msgs[0];
    assert.equal(m.readUInt32BE(4), 16000);
    assert.equal(m.readInt16LE(16 + 1), 1234, 'L16 decoded to little-endian PCM');
  });

  it('batches a viewer\'s messages: one socket write per batch, the messages intact and in order; text after the binary before it', async () => {
    const hub = new LiveMediaHub({ batchMs: 15 });
    const sink = hub.sinkFor(info);
    sink.onVideo(video(0, 0));
    const ws = new FakeSocket();
    sink.watch(ws);
    for (let i = 1; i <= 3; i++) sink.onVideo(video(i, i * 40));
    assert.equal(ws.sent.length, 1, 'only the hello so far');
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(ws.sent.length, 2);
    const batch = ws.sent[1] as Buffer;
    assert.equal(batch[0], 0);
    const kinds: number[] = [];
    const stamps: number[] = [];
    for (let p = 1; p < batch.length; ) {
      const n = batch.readUInt32BE(p);
      const m = batch.subarray(p + 4, p + 4 + n);
      kinds.push(m[0]);
      if (m[0] === 2) stamps.push(m.readDoubleBE(4));
      p += 4 + n;
    }
    assert.deepEqual(kinds, [1, 2, 2, 2, 2], 'init, the keyframe, three frames');
    assert.deepEqual(stamps, [0, 40, 80, 120]);
    sink.onVideo(video(4, 160));
    await sink.close();
    assert.equal((ws.sent.at(-2) as Buffer)[0], 0, 'the last frame is flushed before the text that follows it');
    assert.equal(JSON.parse(ws.sent.at(-1) as string).type, 'ended');
  });

  it('pre-built WebSocket frames: what ws reads back, for every length encoding', async () => {
    for (const n of [0, 1, 125, 126, 65535, 65536, 70000]) {
      const payload = Buffer.alloc(n, 7);
      if (n) payload[n - 1] = 9;
      const { frame, offset } = wsBinaryFrame([payload.subarray(0, n >> 1), payload.subarray(n >> 1)], n);
      assert.equal(frame.length, offset + n);
      assert.deepEqual(frame.subarray(offset), payload);
      const got = await new Promise<Buffer>((resolve, reject) => {
        const r = new Receiver({ isServer: false });
        r.on('message', (d: Buffer, isBinary: boolean): void => (isBinary ? resolve(d) : reject(new Error('text'))));
        r.on('error', reject);
        r.write(frame);
      });
      assert.deepEqual(got, payload, `${n} bytes`);
    }
  });

  it('a transport that takes pre-built frames gets the shared batch as one frame, the same buffer for every viewer', async () => {
    const hub = new LiveMediaHub({ batchMs: 10 });
    const sink = hub.sinkFor(info);
    sink.onVideo(video(0, 0));
    const framed: Buffer[][] = [[], []];
    const viewers = framed.map((out) => {
      const ws = new FakeSocket() as FakeSocket & MediaViewerTransport;
      ws.sendFramed = (f) => (out.push(f), true);
      sink.watch(ws);
      return ws;
    });
    await new Promise((r) => setTimeout(r, 30)); // their starts go out, each its own
    for (let i = 1; i <= 2; i++) sink.onVideo(video(i, i * 40));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(framed[0].length, 2);
    assert.equal(framed[0][1], framed[1][1], 'built once, written to both');
    const f = framed[0][1];
    assert.equal(f[0], 0x82, 'final binary frame');
    const offset = f[1] === 126 ? 4 : f[1] === 127 ? 10 : 2;
    assert.equal(f[offset], 0, 'a batch');
    assert.equal(viewers[0].sent.length, 1, 'only the hello went through send');
    await sink.close();
  });

  it('the stream ending tells its viewers', async () => {
    const hub = new LiveMediaHub({ batchMs: 0 });
    const sink = hub.sinkFor(info);
    const ws = new FakeSocket();
    sink.watch(ws);
    await sink.close();
    assert.equal(JSON.parse(ws.sent.at(-1) as string).type, 'ended');
    assert.equal(hub.stream('s1'), undefined);
  });
});
