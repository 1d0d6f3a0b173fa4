/**
 * Fragmented MP4 for live H.264, one fragment per access unit: an init segment (ftyp + moov with the
 * avcC from the stream's SPS/PPS) and `moof`+`mdat` pairs that a browser's Media Source Extensions
 * append as they come. Nothing is transcoded: the samples are RTMS's own NAL units, length-prefixed.
 *
 * Built by hand rather than with mp4-muxer because a muxer closes a fragment only at the next
 * keyframe (a whole GOP of latency) and cannot be asked for "this one frame, now".
 */
import { avcC } from './h264.js';

/** Timescale of the track: milliseconds, the unit of RTMS timestamps, so decode time = timestamp − base. */
export const FMP4_TIMESCALE = 1000;

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function box(type: string, ...parts: Uint8Array[]): Buffer {
  const size = 8 + parts.reduce((n, p) => n + p.length, 0);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(size);
  head.write(type, 4, 'ascii');
  return Buffer.concat([head, ...parts], size);
}

/** A full box: version and 24-bit flags before the payload. */
function fullBox(type: string, version: number, flags: number, ...parts: Uint8Array[]): Buffer {
  return box(type, u32((version << 24) | (flags & 0xffffff)), ...parts);
}

const MATRIX = Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0]);

/** The init segment (ftyp + moov) of a one-track H.264 stream. */
export function initSegment(o: { width: number; height: number; sps: Uint8Array; pps: Uint8Array }): Buffer {
  const ftyp = box('ftyp', Buffer.from('isom'), u32(0x200), Buffer.from('isomiso6avc1mp41'));
  const mvhd = fullBox('mvhd', 0, 0, u32(0), u32(0), u32(FMP4_TIMESCALE), u32(0), u32(0x00010000), Buffer.from([1, 0, 0, 0]), Buffer.alloc(8), MATRIX, Buffer.alloc(24), u32(2));
  const tkhd = fullBox('tkhd', 0, 3, u32(0), u32(0), u32(1), u32(0), u32(0), Buffer.alloc(8), Buffer.alloc(8), MATRIX, u32(o.width << 16), u32(o.height << 16));
  const mdhd = fullBox('mdhd', 0, 0, u32(0), u32(0), u32(FMP4_TIMESCALE), u32(0), Buffer.from([0x55, 0xc4, 0, 0]));
  const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from('vide'), Buffer.alloc(12), Buffer.from('VideoHandler\0'));
  const vmhd = fullBox('vmhd', 0, 1, Buffer.alloc(8));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  const dims = Buffer.alloc(4);
  dims.writeUInt16BE(o.width, 0);
  dims.writeUInt16BE(o.height, 2);
  const avc1 = box(
    'avc1',
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]), // reserved, data_reference_index 1
    Buffer.alloc(16), // pre_defined, reserved
    dims,
    u32(0x00480000), // 72 dpi
    u32(0x00480000),
    u32(0),
    Buffer.from([0, 1]), // frame_count
    Buffer.alloc(32), // compressorname
    Buffer.from([0, 0x18, 0xff, 0xff]), // depth 24, pre_defined -1
    box('avcC', avcC(o.sps, o.pps)),
  );
  const empty = (t: string) => fullBox(t, 0, 0, u32(0));
  const stbl = box('stbl', fullBox('stsd', 0, 0, u32(1), avc1), empty('stts'), empty('stsc'), fullBox('stsz', 0, 0, u32(0), u32(0)), empty('stco'));
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', vmhd, dinf, stbl)));
  const mvex = box('mvex', fullBox('trex', 0, 0, u32(1), u32(1), u32(0), u32(0), u32(0)));
  return Buffer.concat([ftyp, box('moov', mvhd, trak, mvex)]);
}

/**
 * One fragment holding one sample: `data` is the access unit in AVCC form (4-byte lengths),
 * `decodeTime` and `duration` in {@link FMP4_TIMESCALE} units.
 */
export function fragment(o: { sequence: number; decodeTime: number; duration: number; key: boolean; data: Uint8Array }): Buffer {
  const tfdt = Buffer.alloc(8);
  tfdt.writeBigUInt64BE(BigInt(Math.max(0, Math.round(o.decodeTime))));
  // trun: data offset, then per sample duration, size and flags (0x000701).
  const trunBody = Buffer.alloc(20);
  trunBody.writeUInt32BE(1, 0); // sample_count
  // data_offset (offset 4) patched below once the moof size is known
  trunBody.writeUInt32BE(Math.max(1, Math.round(o.duration)), 8);
  trunBody.writeUInt32BE(o.data.length, 12);
  trunBody.writeUInt32BE(o.key ? 0x02000000 : 0x01010000, 16);
  const traf = box('traf', fullBox('tfhd', 0, 0x020000, u32(1)), fullBox('tfdt', 1, 0, tfdt), fullBox('trun', 0, 0x000701, trunBody));
  const moof = box('moof', fullBox('mfhd', 0, 0, u32(o.sequence)), traf);
  moof.writeUInt32BE(moof.length + 8, moof.length - 20 + 4); // trun's data_offset: first byte after mdat's header
  const mdatHead = Buffer.alloc(8);
  mdatHead.writeUInt32BE(8 + o.data.length);
  mdatHead.write('mdat', 4, 'ascii');
  return Buffer.concat([moof, mdatHead, o.data]);
}
