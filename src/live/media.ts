/**
 * Live media for viewers (the dashboard's player): camera and screen-share H.264 passed through as
 * fragmented MP4 (one fragment per frame, nothing transcoded), JPG/PNG frames as they are, and the
 * audio decoded to 16-bit PCM. One {@link LiveMediaSink} per stream (a pipeline sink) does the work once
 * per frame; every viewer receives the same buffers.
 *
 * A new viewer starts at the latest keyframe (the frames since it are kept, bounded). Each viewer's
 * memory is bounded: once its socket holds more than `maxBufferedBytes` unsent, it stops receiving
 * video until the next keyframe after it drained, and audio until it drained; every frame it missed
 * is counted. The frame handlers never wait, and do nothing but bookkeeping while nobody watches.
 *
 * Binary messages (big-endian headers), see `encode*` below and src/dashboard/public/player.js:
 *   1 video init   [1][track][u16 n][n bytes JSON {codec,width,height,base}][init segment]
 *   2 video frame  [2][track][flags: 1 = keyframe][0][f64 RTMS timestamp][moof+mdat]
 *   3 audio PCM    [3][channels][u16 n][u32 sample rate][f64 RTMS timestamp][n bytes user id][s16le PCM]
 *   4 image        [4][track][0 = JPEG, 1 = PNG][0][f64 RTMS timestamp][image bytes]
 *   0 batch        [0][u32 n][message of n bytes]… several of the above in one WebSocket message
 * track: 0 = camera (active speaker or the chosen participant), 1 = screen share.
 *
 * A viewer's binary messages are batched every `batchMs` (default 40 ms, within the player's jitter
 * buffer): one socket write per viewer per batch instead of one per frame, and every ordinary viewer
 * gets the same batch, built once. What N viewers cost against the recorder: bench/viewers.ts.
 */
import { createAudioDecoder, type AudioDecoder } from '../media/codec.js';
import { fragment, initSegment } from '../media/fmp4.js';
import { avcCodecString, nalType, nalUnits, spsDimensions, toAvcc } from '../media/h264.js';
import { Codec, SAMPLE_RATE_HZ, type MediaParams, type SampleRate } from '../protocol/index.js';
import type { AudioFrame, StreamInfo, StreamSink, VideoFrame } from '../pipeline/types.js';
import { endianness } from 'node:os';
import { imageType } from './thumbnails.js';

const LITTLE_ENDIAN = endianness() === 'LE';

export type MediaTrack = 0 | 1;
export const TRACK_CAMERA: MediaTrack = 0;
export const TRACK_SHARE: MediaTrack = 1;

/** Where a viewer's messages go (a WebSocket in the server, an array in tests). */
export interface MediaViewerTransport {
  send(data: Buffer | string): void;
  /** Bytes handed to `send` and not yet written out. */
  bufferedAmount(): number;
  /**
   * Optional: writes a complete WebSocket binary frame (header and payload, built once for every
   * viewer by {@link wsBinaryFrame}) straight to the socket, or returns false when it cannot (then the
   * payload goes through `send`).
   */
  sendFramed?(frame: Buffer): boolean;
}

/**
 * One unmasked, final, binary WebSocket frame (RFC 6455 §5.2) holding `parts`, in one buffer: what a
 * server writes for `ws.send(payload)`, built once and written as it is to every viewer's socket.
 */
export function wsBinaryFrame(parts: readonly Buffer[], payloadBytes: number): { frame: Buffer; offset: number } {
  const offset = payloadBytes < 126 ? 2 : payloadBytes < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(offset + payloadBytes);
  frame[0] = 0x82;
  if (offset === 2) frame[1] = payloadBytes;
  else if (offset === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(payloadBytes, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(payloadBytes / 2 ** 32), 2);
    frame.writeUInt32BE(payloadBytes >>> 0, 6);
  }
  let o = offset;
  for (const p of parts) o += p.copy(frame, o);
  return { frame, offset };
}

/** Sends a frame built by {@link wsBinaryFrame}: as it is if the transport can, else its payload. */
function deliver(transport: MediaViewerTransport, built: { frame: Buffer; offset: number }): void {
  if (!transport.sendFramed?.(built.frame)) transport.send(built.frame.subarray(built.offset));
}

/** Which audio a viewer hears: every track (`mixed`), one participant's (`solo`), or none. */
export type AudioChoice = { mode: 'mixed' } | { mode: 'solo'; userId: string } | { mode: 'off' };

export interface MediaViewerStats {
  sentBytes: number;
  videoFrames: number;
  audioFrames: number;
  /** Frames not sent because the viewer's socket was backed up (video until the next keyframe). */
  droppedVideo: number;
  droppedAudio: number;
}

export interface LiveMediaHubOptions {
  /** Unsent bytes a viewer may hold before it is dropped to keyframes. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Frames kept since the latest keyframe for new viewers. Default 300. */
  maxGopFrames?: number;
  /** A viewer's binary messages go out together every this many ms (0: each at once). Default 40. */
  batchMs?: number;
  /** Asks Zoom for one participant's camera (VIDEO_SUBSCRIPTION_REQ), or back to the active speaker (null). */
  requestVideo?: (streamId: string, userId: string | null) => Promise<void>;
}

export interface LiveMediaStats {
  viewers: number;
  sentBytes: number;
  droppedVideo: number;
  droppedAudio: number;
}

interface GopFrame {
  timestamp: number;
  key: boolean;
  data: Buffer;
  /** The encoded fragment message, built when someone first needs it. */
  msg?: Buffer;
  duration: number;
}

interface Track {
  id: MediaTrack;
  sps?: Uint8Array;
  pps?: Uint8Array;
  initMsg?: Buffer;
  gop: GopFrame[];
  lastTs?: number;
  lastDuration: number;
  sequence: number;
  /** The latest JPG/PNG frame (image streams). */
  image?: Buffer;
}

const sameBytes = (a?: Uint8Array, b?: Uint8Array) => !!a && !!b && a.length === b.length && Buffer.compare(a, b) === 0;

export function encodeInit(track: MediaTrack, meta: { codec: string; width: number; height: number; base: number }, init: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(meta));
  const head = Buffer.alloc(4);
  head[0] = 1;
  head[1] = track;
  head.writeUInt16BE(json.length, 2);
  return Buffer.concat([head, json, init]);
}

export function encodeFrame(kind: 2 | 4, track: MediaTrack, flags: number, timestamp: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(12 + body.length);
  out[0] = kind;
  out[1] = track;
  out[2] = flags;
  out[3] = 0;
  out.writeDoubleBE(timestamp, 4);
  body.copy(out, 12);
  return out;
}

export function encodeAudio(userId: string, rate: number, channels: number, timestamp: number, pcm: Int16Array): Buffer {
  const idBytes = Buffer.byteLength(userId);
  const out = Buffer.allocUnsafe(16 + idBytes + pcm.byteLength); // one buffer, written in place
  out[0] = 3;
  out[1] = channels;
  out.writeUInt16BE(idBytes, 2);
  out.writeUInt32BE(rate, 4);
  out.writeDoubleBE(timestamp, 8);
  out.write(userId, 16, 'utf8');
  const at = 16 + idBytes;
  if (LITTLE_ENDIAN) out.set(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength), at); // the samples as they are
  else for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i], at + i * 2);
  return out;
}

/** One connected viewer of one stream. Close it when its socket closes. */
export class MediaViewer {
  readonly stats: MediaViewerStats = { sentBytes: 0, videoFrames: 0, audioFrames: 0, droppedVideo: 0, droppedAudio: 0 };
  audio: AudioChoice = { mode: 'mixed' };
  /** Per track: waiting for a keyframe before sending video again. */
  #waitKey: [boolean, boolean] = [true, true];
  #closed = false;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Receiving the stream's shared batch this window (what every ordinary viewer gets), no batch of its own. */
  #inShared = false; // a new viewer starts with its own batch (its start), and joins at the next flush
  constructor(
    readonly transport: MediaViewerTransport,
    private readonly sink: LiveMediaSink,
    private readonly max: number,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  /** Over the limit: this viewer is too slow for now. */
  backedUp(): boolean {
    return this.#held() > this.max;
  }

  /** Bytes waiting for this viewer: in the socket and in the batch. */
  #held(): number {
    return this.transport.bufferedAmount() + (this.#inShared ? this.sink._sharedBytes : this.#pendingBytes);
  }

  /**
   * @internal This viewer does not take the message being fanned out (dropped, or not the audio it
   * wants): from now until the next flush it gets a batch of its own.
   */
  reject(): void {
    if (this.#inShared && this.sink._tail) this.#leaveShared(true);
  }

  #leaveShared(withoutTail: boolean): void {
    if (!this.#inShared) return;
    this.#inShared = false;
    const list = this.sink._shared;
    this.#pending = list.slice(0, withoutTail && this.sink._tail ? list.length - 2 : list.length);
    this.#pendingBytes = 0;
    for (const b of this.#pending) this.#pendingBytes += b.length;
  }

  /** @internal */ sendVideo(track: MediaTrack, key: boolean, msg: Buffer): void {
    if (this.#waitKey[track]) {
      // Resume only on a keyframe, and only once the socket drained to half the limit.
      if (!key || this.#held() > this.max / 2) {
        this.reject();
        this.stats.droppedVideo++;
        this.sink._dropped('video');
        return;
      }
      this.#waitKey[track] = false;
    } else if (this.backedUp()) {
      this.#waitKey[track] = true;
      this.reject();
      this.stats.droppedVideo++;
      this.sink._dropped('video');
      return;
    }
    this.stats.videoFrames++;
    this.#send(msg);
  }

  /** @internal the frames since the latest keyframe, in order, as one start. */
  startAt(msgs: Buffer[]): void {
    if (!msgs.length) return;
    for (const m of msgs) this.#send(m);
    this.stats.videoFrames += msgs.length;
  }

  /** @internal */ markStarted(track: MediaTrack): void {
    this.#waitKey[track] = false;
  }

  /** @internal */ sendAudio(msg: Buffer): void {
    if (this.backedUp()) {
      this.reject();
      this.stats.droppedAudio++;
      this.sink._dropped('audio');
      return;
    }
    this.stats.audioFrames++;
    this.#send(msg);
  }

  /** @internal init segments and images go through unconditionally (small and needed). */
  sendAlways(msg: Buffer | string): void {
    this.#send(msg);
  }

  wantsAudio(userId: string): boolean {
    return this.audio.mode === 'mixed' || (this.audio.mode === 'solo' && this.audio.userId === userId);
  }

  #send(msg: Buffer | string): void {
    if (this.#closed) return;
    this.stats.sentBytes += msg.length;
    this.sink._sent(msg.length);
    if (typeof msg === 'string' || !this.sink.batching) {
      this.#leaveShared(false);
      this.flush(); // text (rare) keeps its place after the binary before it
      this.transport.send(msg);
      return;
    }
    if (this.#inShared && this.sink._tail === msg) return; // in the shared batch already
    this.#leaveShared(false);
    this.#pending.push(lengthOf(msg), msg);
    this.#pendingBytes += 4 + msg.length;
    this.sink._schedule();
  }

  /** Sends what is batched for this viewer alone as one message (the shared batch is the sink's). */
  flush(): void {
    if (this.#closed || this.#inShared || !this.#pending.length) return;
    const batch = wsBinaryFrame([BATCH_KIND, ...this.#pending], 1 + this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    deliver(this.transport, batch);
  }

  /** @internal a flush: the shared batch (built once) if this viewer is on it, else its own; then it rejoins the shared one. */
  flushWith(shared: () => { frame: Buffer; offset: number }): void {
    if (this.#closed) return;
    if (this.#inShared) {
      if (this.sink._shared.length) deliver(this.transport, shared());
    } else {
      this.flush();
      this.#inShared = true;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.sink._remove(this);
  }
}

const BATCH_KIND = Buffer.from([0]);
const lengths = new WeakMap<Buffer, Buffer>();
/** The 4-byte length that precedes a message in a batch, made once per message whatever the number of viewers. */
function lengthOf(msg: Buffer): Buffer {
  let b = lengths.get(msg);
  if (!b) {
    b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(msg.length);
    lengths.set(msg, b);
  }
  return b;
}

/** The pipeline sink of one stream: keeps each track's decoder configuration and latest GOP, fans frames out to viewers. */
export class LiveMediaSink implements StreamSink {
  readonly streamId: string;
  readonly viewers = new Set<MediaViewer>();
  /** Timestamp of the stream's first media frame: fMP4 decode times are counted from it. */
  base?: number;
  #hub: LiveMediaHub;
  #tracks: [Track, Track] = [
    { id: 0, gop: [], lastDuration: 40, sequence: 1 },
    { id: 1, gop: [], lastDuration: 200, sequence: 1 },
  ];
  #codec: number = Codec.L16;
  #rate = 16000;
  #channels = 1;
  #decoders = new Map<string, AudioDecoder>();
  #closed = false;
  #flushTimer?: NodeJS.Timeout;
  /** @internal the batch every ordinary viewer gets this window: [length, message] pairs. */
  _shared: Buffer[] = [];
  /** @internal */ _sharedBytes = 0;
  /** @internal the message being fanned out now (the last of `_shared`), if any. */
  _tail?: Buffer;

  constructor(hub: LiveMediaHub, info: StreamInfo) {
    this.#hub = hub;
    this.streamId = info.rtmsStreamId;
  }

  /** Whether viewers' binary messages are batched. */
  get batching(): boolean {
    return this.#hub.batchMs > 0;
  }

  /** @internal a batch is waiting: flush every viewer's within batchMs. */
  _schedule(): void {
    if (this.#flushTimer || this.#closed) return;
    this.#flushTimer = setTimeout(this.#flush, this.#hub.batchMs);
    this.#flushTimer.unref?.();
  }

  #flush = (): void => {
    this.#flushTimer = undefined;
    let batch: { frame: Buffer; offset: number } | undefined;
    const shared = () => {
      batch ??= wsBinaryFrame([BATCH_KIND, ...this._shared], 1 + this._sharedBytes);
      return batch;
    };
    for (const v of this.viewers) v.flushWith(shared);
    this._shared = [];
    this._sharedBytes = 0;
  };

  /** Starts fanning `msg` out: it joins the shared batch once; each viewer then takes it or `reject()`s it. */
  #offer(msg: Buffer): void {
    if (!this.batching) return;
    this._shared.push(lengthOf(msg), msg);
    this._sharedBytes += 4 + msg.length;
    this._tail = msg;
    this._schedule();
  }

  get audioFormat(): { sampleRate: number; channels: number } {
    return { sampleRate: this.#rate, channels: this.#channels };
  }

  onJoined(params: MediaParams): void {
    const a = params.audio;
    if (!a) return;
    this.#codec = a.codec ?? Codec.L16;
    this.#rate = SAMPLE_RATE_HZ[(a.sample_rate ?? 1) as SampleRate] ?? 16000;
    this.#channels = a.channel ?? 1;
    for (const d of this.#decoders.values()) d.destroy?.();
    this.#decoders.clear();
  }

  onVideo(frame: VideoFrame): void {
    this.#video(this.#tracks[0], frame);
  }
  onShare(frame: VideoFrame): void {
    this.#video(this.#tracks[1], frame);
  }

  #video(t: Track, frame: VideoFrame): void {
    if (this.#closed) return;
    this.base ??= frame.timestamp;
    const image = imageType(frame.data);
    if (image) {
      t.image = encodeFrame(4, t.id, image === 'image/png' ? 1 : 0, frame.timestamp, frame.data);
      this.#offer(t.image);
      for (const v of this.viewers) if (!v.backedUp()) v.sendAlways(t.image);
        else v.reject();
      this._tail = undefined;
      return;
    }
    const units = nalUnits(frame.data);
    let key = false;
    let sps: Uint8Array | undefined;
    let pps: Uint8Array | undefined;
    for (const u of units) {
      const type = nalType(u);
      if (type === 5) key = true;
      else if (type === 7) sps = u;
      else if (type === 8) pps = u;
    }
    if (key && sps && pps && !(sameBytes(sps, t.sps) && sameBytes(pps, t.pps))) {
      t.sps = Uint8Array.from(sps);
      t.pps = Uint8Array.from(pps);
      const { width, height } = spsDimensions(t.sps);
      t.initMsg = encodeInit(t.id, { codec: avcCodecString(t.sps), width, height, base: this.base }, initSegment({ width, height, sps: t.sps, pps: t.pps }));
      this.#offer(t.initMsg);
      for (const v of this.viewers) v.sendAlways(t.initMsg);
      this._tail = undefined;
    }
    if (!t.initMsg) return; // nothing decodable before the first keyframe with its parameter sets
    if (t.lastTs !== undefined && frame.timestamp > t.lastTs) t.lastDuration = Math.min(1000, frame.timestamp - t.lastTs);
    t.lastTs = frame.timestamp;
    const g: GopFrame = { timestamp: frame.timestamp, key, data: frame.data, duration: t.lastDuration };
    if (key) t.gop = [];
    if (t.gop.length || key) {
      t.gop.push(g);
      if (t.gop.length > this.#hub.maxGopFrames) t.gop = []; // no keyframe for too long: new viewers wait for the next
    }
    if (this.viewers.size === 0) return;
    const msg = this.#fragment(t, g);
    this.#offer(msg);
    for (const v of this.viewers) v.sendVideo(t.id, key, msg);
    this._tail = undefined;
  }

  #fragment(t: Track, g: GopFrame): Buffer {
    if (g.msg) return g.msg;
    const body = fragment({ sequence: t.sequence++, decodeTime: g.timestamp - this.base!, duration: g.duration, key: g.key, data: toAvcc(nalUnits(g.data)) });
    return (g.msg = encodeFrame(2, t.id, g.key ? 1 : 0, g.timestamp, body));
  }

  onAudio(frame: AudioFrame): void {
    if (this.#closed) return;
    this.base ??= frame.timestamp;
    if (this.viewers.size === 0) return;
    const userId = String(frame.userId);
    let wanted = false;
    for (const v of this.viewers) if (v.wantsAudio(userId)) wanted = true;
    if (!wanted) return;
    let decoder = this.#decoders.get(userId);
    let pcm: Int16Array;
    try {
      if (!decoder) this.#decoders.set(userId, (decoder = createAudioDecoder(this.#codec, this.#rate, this.#channels)));
      pcm = decoder.decode(frame.data);
    } catch {
      return;
    }
    const msg = encodeAudio(userId, this.#rate, this.#channels, frame.timestamp, pcm);
    this.#offer(msg);
    for (const v of this.viewers) if (v.wantsAudio(userId)) v.sendAudio(msg);
      else v.reject();
    this._tail = undefined;
  }

  /** Attaches a viewer: the stream's description, then each track from its latest keyframe. */
  watch(transport: MediaViewerTransport): MediaViewer {
    const v = new MediaViewer(transport, this, this.#hub.maxBufferedBytes);
    this.viewers.add(v);
    this.#hub._viewers(1);
    v.sendAlways(JSON.stringify({ type: 'media', streamId: this.streamId, base: this.base ?? null, audio: this.audioFormat, timestamp: Date.now() }));
    for (const t of this.#tracks) {
      if (t.image) v.sendAlways(t.image);
      if (!t.initMsg) continue;
      v.sendAlways(t.initMsg);
      if (t.gop.length) {
        v.startAt(t.gop.map((g) => this.#fragment(t, g)));
        v.markStarted(t.id);
      }
    }
    return v;
  }

  /** @internal */ _remove(v: MediaViewer): void {
    if (this.viewers.delete(v)) this.#hub._viewers(-1);
  }
  /** @internal */ _dropped(kind: 'video' | 'audio'): void {
    this.#hub._dropped(kind);
  }
  /** @internal */ _sent(bytes: number): void {
    this.#hub._sent(bytes);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#flushTimer);
    for (const v of this.viewers) v.sendAlways(JSON.stringify({ type: 'ended', streamId: this.streamId, timestamp: Date.now() }));
    for (const d of this.#decoders.values()) d.destroy?.();
    this.#decoders.clear();
    for (const t of this.#tracks) t.gop = [];
    this.#hub._ended(this);
  }
}

/** Every live stream's media sink, for the `/api/live/media` route. */
export class LiveMediaHub {
  readonly maxBufferedBytes: number;
  readonly maxGopFrames: number;
  readonly batchMs: number;
  #streams = new Map<string, LiveMediaSink>();
  #stats = { viewers: 0, sentBytes: 0, droppedVideo: 0, droppedAudio: 0 };
  #requestVideo?: LiveMediaHubOptions['requestVideo'];

  constructor(o: LiveMediaHubOptions = {}) {
    this.maxBufferedBytes = o.maxBufferedBytes ?? 1 << 20;
    this.maxGopFrames = o.maxGopFrames ?? 300;
    this.batchMs = o.batchMs ?? 40;
    this.#requestVideo = o.requestVideo;
  }

  /** Lets the hub ask for a participant's camera (set once the stream registry exists). */
  setVideoRequester(fn: LiveMediaHubOptions['requestVideo']): void {
    this.#requestVideo = fn;
  }

  sinkFor(info: StreamInfo): LiveMediaSink {
    const s = new LiveMediaSink(this, info);
    this.#streams.set(info.rtmsStreamId, s);
    return s;
  }

  stream(streamId: string): LiveMediaSink | undefined {
    return this.#streams.get(streamId);
  }

  /** One participant's camera for the whole stream (Zoom sends one camera per connection), or the active speaker again. */
  async requestVideo(streamId: string, userId: string | null): Promise<void> {
    if (!this.#requestVideo) throw new Error('choosing a participant needs a live client on this server');
    await this.#requestVideo(streamId, userId);
  }

  get stats(): LiveMediaStats {
    return { ...this.#stats };
  }

  /** @internal */ _ended(s: LiveMediaSink): void {
    if (this.#streams.get(s.streamId) === s) this.#streams.delete(s.streamId);
  }
  /** @internal */ _viewers(n: number): void {
    this.#stats.viewers += n;
  }
  /** @internal */ _dropped(kind: 'video' | 'audio'): void {
    if (kind === 'video') this.#stats.droppedVideo++;
    else this.#stats.droppedAudio++;
  }
  /** @internal */ _sent(bytes: number): void {
    this.#stats.sentBytes += bytes;
  }
}
