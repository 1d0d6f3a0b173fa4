/**
 * One emulated RTMS stream: a scenario clock that generates media at the real cadence and delivers
 * it to whichever client connection currently holds the stream. What is generated while no client
 * (or no socket for that kind) is connected is counted as missed, so a recording and the summary
 * together show exactly what was lost.
 */
import WebSocket from 'ws';
import {
  Codec,
  ContactCenterEventType,
  EventType,
  MsgType,
  SessionState,
  StopReason,
  StreamState,
  type IdField,
  type MediaKind,
  type Product,
} from '../protocol/index.js';
import { loadFrames, loadH264 } from '../media/assets.js';
import { toFrameFormat } from './expected.js';
import type { Channel, Connection, MediaSocket } from './connection.js';
import { RECOVERABLE, type Fault } from './faults.js';
import { mixedPcm, speakerPcm, type Plan, type PlanEvent } from './scenario.js';
import { zeroCounts, type CountKind, type FaultReport, type KindCounts, type StreamReport } from './summary.js';

const TICK_MS = 20;
/** Close code the emulator uses when a new connection takes the stream over (see docs/protocol-notes.md). */
export const KICK_CLOSE_CODE = 4001;

export interface StreamIdentity {
  rtmsStreamId: string;
  product: Product;
  /** meeting_uuid, session_id, engagement_id or call_id. */
  meetingUuid: string;
  idField: IdField;
  operatorId: string;
}

export interface StreamHooks {
  fast: boolean;
  waitForClientMs: number;
  /** Global fault (restart) requested by this stream's clock. */
  onRestart(durationMs: number): void;
  /** The app's signaling connection dropped: Zoom sends the `*.rtms_interrupted` webhook. */
  onInterrupted(): void;
  /** How long (ms) the stream waits for the app to come back after losing signaling / media. */
  reconnectWindowMs: { signaling: number; media: number };
  /** Called when a timed fault fires. */
  onFault(spec: string, atMs: number): void;
  /** Called when the emulator itself ends a client's connection as a takeover does (fault `kick`). */
  onKick(): void;
  /** Keep every message delivered to a client in {@link EmulatedStream.sentLog}. */
  recordSent?: boolean;
}

/** One message delivered to a client (kept when the emulator runs with `recordSent: true`). */
export interface SentRecord {
  kind: CountKind;
  /** Scenario time (ms) when it was sent. */
  at_ms: number;
  /** The exact JSON text that went on the wire. */
  message: string;
}

type StreamPhase = 'waiting' | 'running' | 'ended';
type ArmedFault = { fault: Extract<Fault, { atMs: number }>; report: FaultReport; fired: boolean };

export class EmulatedStream {
  phase: StreamPhase = 'waiting';
  conn?: Connection;
  /** Epoch ms of scenario time 0 (content timestamps are startEpoch + scenario time). */
  startEpoch = Date.now();
  t = 0;
  readonly sent: KindCounts = zeroCounts();
  readonly missed: KindCounts = zeroCounts();
  connections = 0;
  kicked = 0;
  endedBy: StreamReport['ended_by'] = 'scenario';
  readonly faultReports: FaultReport[] = [];
  /** Every message delivered to a client, in order (only with `recordSent: true`). */
  readonly sentLog: SentRecord[] = [];
  #faults: ArmedFault[];
  #eventIndex = 0;
  #video: Set<number>;
  #sharer?: number;
  #activeSpeaker?: number;
  #present = new Set<number>();
  #readyWaiters: (() => void)[] = [];
  #stopRequested = false;
  #epochSet = false;
  /** Scenario time since which the stream waits for a new signaling connection (Zoom waits ~60 s). */
  #awaitingSignalingSince?: number;
  /** Scenario time since which it waits for a lost media connection to come back (~30 s). */
  #awaitingMediaSince?: number;
  #paused = false;

  constructor(
    readonly id: StreamIdentity,
    readonly plan: Plan,
    faults: Fault[],
    private readonly hooks: StreamHooks,
  ) {
    this.#video = new Set(plan.initialVideo);
    this.#faults = faults
      .filter((f): f is Extract<Fault, { atMs: number }> => 'atMs' in f)
      .map((fault) => {
        const report: FaultReport = {
          spec: fault.spec,
          at_ms: fault.atMs,
          client_recovered: false,
          expected_recovery: RECOVERABLE.has(fault.kind),
          rtms_stream_id: id.rtmsStreamId,
        };
        this.faultReports.push(report);
        return { fault, report, fired: false };
      });
  }

  /** Contact Center and Phone streams carry audio and transcript only. */
  get #voiceOnly(): boolean {
    return this.id.product === 'contact_center' || this.id.product === 'phone';
  }

  get ended(): boolean {
    return this.phase === 'ended';
  }

  /** RTMS_STOP_REASON of the stream's end, from how it ended. */
  get stopReason(): number {
    switch (this.endedBy) {
      case 'client':
        return StopReason.STOP_BC_RECEIVER_REQUEST_CLOSE;
      case 'reconnect-timeout':
        return StopReason.STOP_BC_AWAIT_RECONNECTION_TIMEOUT;
      case 'api':
        return StopReason.STOP_BC_MANUAL_API_TRIGGERED;
      default:
        return StopReason.STOP_BC_MEETING_ENDED;
    }
  }

  /**
   * CLIENT_READY_ACK: media flows to every socket handshaken so far. The first one starts the
   * stream for this connection; a later one (after a media socket was re-opened) resumes it.
   */
  clientReady(conn: Connection): void {
    let resumed = false;
    for (const m of conn.media) {
      if (m.acked) continue;
      m.acked = true;
      resumed = true;
    }
    if (conn.ready) {
      if (!resumed) return;
      conn.readyAtMs = this.t;
      if (this.#awaitingMediaSince !== undefined && [...conn.requested].every((k) => conn.socketFor(k))) {
        this.#awaitingMediaSince = undefined;
        this.#signal(conn, { msg_type: MsgType.STREAM_STATE_UPDATE, rtms_stream_id: this.id.rtmsStreamId, state: StreamState.ACTIVE, timestamp: this.startEpoch + this.t });
      }
      return;
    }
    if (this.phase === 'waiting' && !this.#epochSet) {
      // The clock starts now: the first packet's timestamp (FIRST_PACKET_TIMESTAMP) is the epoch.
      this.startEpoch = Date.now();
      this.#epochSet = true;
    }
    conn.ready = true;
    conn.readyAtMs = this.t;
    const ts = this.startEpoch + this.t;
    this.#signal(conn, { msg_type: MsgType.SESSION_STATE_UPDATE, state: SessionState.STARTED, timestamp: ts });
    this.#signal(conn, { msg_type: MsgType.STREAM_STATE_UPDATE, rtms_stream_id: this.id.rtmsStreamId, state: StreamState.ACTIVE, timestamp: ts });
    this.#event(conn, { event_type: EventType.FIRST_PACKET_TIMESTAMP, timestamp: ts });
    if (this.#present.size > 0) {
      this.#event(conn, {
        event_type: EventType.PARTICIPANT_JOIN,
        timestamp: ts,
        participants: [...this.#present].map((u) => ({ user_id: u, user_name: this.plan.names.get(u) ?? '' })),
      });
    }
    for (const w of this.#readyWaiters.splice(0)) w();
  }

  /** The connection holding the stream while its signaling socket is open (a second handshake is refused with status 8). */
  get holder(): Connection | undefined {
    const c = this.conn;
    return c && !c.closed && c.signaling.readyState === WebSocket.OPEN ? c : undefined;
  }

  /** Attaches a new client connection (the server has checked that no other one holds the stream). */
  attach(conn: Connection): void {
    if (this.conn && !this.conn.closed) this.conn.close();
    this.conn = conn;
    this.connections++;
    this.#awaitingSignalingSince = undefined;
    this.#awaitingMediaSince = undefined;
  }

  /** A connection's signaling socket closed: unless the server ended it, that is an interruption. */
  detach(conn: Connection): void {
    if (this.conn !== conn) return conn.close();
    if (conn.closed || conn.endedByServer) {
      conn.close();
      this.conn = undefined;
      return;
    }
    this.#signalingLost(conn);
  }

  /**
   * A media socket of `conn` closed. While signaling is up, Zoom tells the app on signaling
   * (MEDIA_CONNECTION_INTERRUPTED, and STREAM_STATE INTERRUPTED with reason 14) and waits ~30 s for
   * the media connection to come back; once per interruption.
   */
  mediaLost(conn: Connection): void {
    if (conn !== this.conn || conn.closed || conn.endedByServer || this.phase === 'ended' || this.#awaitingMediaSince !== undefined) return;
    if (conn.signaling.readyState !== WebSocket.OPEN) return;
    this.#awaitingMediaSince = this.t;
    const ts = this.startEpoch + this.t;
    this.#event(conn, { event_type: EventType.MEDIA_CONNECTION_INTERRUPTED, timestamp: ts });
    this.#signal(conn, { msg_type: MsgType.STREAM_STATE_UPDATE, rtms_stream_id: this.id.rtmsStreamId, state: StreamState.INTERRUPTED, reason: StopReason.STOP_BC_DATA_CONNECTION_INTERRUPTED, timestamp: ts });
  }

  /**
   * The emulated RTMS server failed (fault `restart`): every connection is gone without any
   * interruption notice; the stream waits for the app from when the server is back (`downMs`).
   */
  serverDown(downMs: number): void {
    const conn = this.conn;
    if (conn) {
      conn.endedByServer = true;
      conn.close();
      this.conn = undefined;
    }
    if (this.phase !== 'ended') this.#awaitingSignalingSince = this.t + downMs;
  }

  /** Signaling dropped: the server ends the media connections too and announces it by webhook. */
  #signalingLost(conn: Connection): void {
    conn.close();
    this.conn = undefined;
    if (this.phase === 'ended') return;
    this.#awaitingMediaSince = undefined;
    this.#awaitingSignalingSince = this.t;
    this.hooks.onInterrupted();
  }

  /** STREAM_CLOSE_REQ from the client: the stream ends for this app. */
  closeRequested(): void {
    this.endedBy = 'client';
    this.#stopRequested = true;
    for (const w of this.#readyWaiters.splice(0)) w();
  }

  /** Stops the clock (emulator shutting down). */
  abort(): void {
    if (this.phase !== 'ended') this.endedBy = 'emulator-closed';
    this.#stopRequested = true;
    for (const w of this.#readyWaiters.splice(0)) w();
  }

  /** Whether the stream is paused (by the app's user or Zoom's REST API). */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Pauses the stream as Zoom does when a user or the REST API pauses the app: STREAM_STATE PAUSED (5)
   * and SESSION_STATE PAUSED (3) on signaling, then no media until resume(). Minimal version for
   * on-demand control; the July 2026 work carries the fuller one (same names).
   */
  pause(): void {
    if (this.#paused || this.phase !== 'running') return;
    this.#paused = true;
    this.#stateUpdate(StreamState.PAUSED, SessionState.PAUSED);
  }

  /** Resumes a paused stream: STREAM_STATE RESUMED (6), SESSION_STATE RESUMED (4), media again. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#stateUpdate(StreamState.RESUMED, SessionState.RESUMED);
  }

  #stateUpdate(stream: number, session: number): void {
    const conn = this.conn;
    if (!conn || !conn.ready || conn.closed) return;
    const ts = this.startEpoch + this.t;
    this.#signal(conn, { msg_type: MsgType.STREAM_STATE_UPDATE, rtms_stream_id: this.id.rtmsStreamId, state: stream, timestamp: ts });
    this.#signal(conn, { msg_type: MsgType.SESSION_STATE_UPDATE, state: session, timestamp: ts });
  }

  /** Zoom's REST API stopped the stream: it ends with TERMINATED, reason MANUAL_API_TRIGGERED (25). */
  endByApi(): void {
    if (this.phase === 'ended') return;
    this.endedBy = 'api';
    this.#stopRequested = true;
    for (const w of this.#readyWaiters.splice(0)) w();
  }

  /** Plays the scenario to the end. */
  async run(): Promise<void> {
    if (!this.conn?.ready && !this.#stopRequested) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.hooks.waitForClientMs);
        this.#readyWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.phase = 'running';
    if (!this.#epochSet) this.startEpoch = Date.now();
    this.#epochSet = true;
    const t0 = performance.now();
    const duration = this.plan.durationMs;
    while (this.t < duration && !this.#stopRequested) {
      this.#tick(this.t);
      this.t += TICK_MS;
      if (this.hooks.fast) await this.#drain();
      else {
        const wait = t0 + this.t - performance.now();
        if (wait > 1) await sleep(wait);
      }
    }
    this.#finish();
  }

  report(): StreamReport {
    return {
      rtms_stream_id: this.id.rtmsStreamId,
      product: this.id.product,
      meeting_uuid: this.id.meetingUuid,
      connections: this.connections,
      kicked: this.kicked,
      sent: { ...this.sent },
      missed: { ...this.missed },
      ended_by: this.endedBy,
    };
  }

  // ---- per tick -----------------------------------------------------------------------------

  #tick(t: number): void {
    for (const f of this.#faults) if (!f.fired && f.fault.atMs <= t) this.#fire(f);
    this.#checkReconnectWindows(t);
    const events = this.plan.events;
    if (this.#paused) {
      // Nothing is generated while paused; who is present, speaking, sharing or on video still changes.
      while (this.#eventIndex < events.length && events[this.#eventIndex].atMs <= t) this.#silentEvent(events[this.#eventIndex++]);
      return;
    }
    while (this.#eventIndex < events.length && events[this.#eventIndex].atMs <= t) this.#planEvent(events[this.#eventIndex++]);
    const conn = this.conn && this.conn.ready && !this.conn.closed && !this.conn.isStalled(t) ? this.conn : undefined;
    this.#audio(conn, t);
    if (!this.#voiceOnly) {
      this.#video_(conn, t, 'video');
      if (this.#sharer !== undefined) this.#video_(conn, t, 'deskshare');
    }
  }

  /** Ends the stream when the app did not come back within Zoom's waiting window. */
  #checkReconnectWindows(t: number): void {
    const { signaling, media } = this.hooks.reconnectWindowMs;
    const lostSignaling = this.#awaitingSignalingSince !== undefined && !this.conn && t - this.#awaitingSignalingSince >= signaling;
    const lostMedia = this.#awaitingMediaSince !== undefined && t - this.#awaitingMediaSince >= media;
    if (!lostSignaling && !lostMedia) return;
    this.#awaitingSignalingSince = this.#awaitingMediaSince = undefined;
    this.endedBy = 'reconnect-timeout';
    this.#stopRequested = true;
  }

  #audio(conn: Connection | undefined, t: number): void {
    const sock = conn?.socketFor('audio');
    const sendRate = sock?.audio?.cfg.send_rate ?? TICK_MS;
    if (t % sendRate !== 0) return;
    const multi = sock?.audio?.cfg.data_opt === 2;
    if (!sock || !sock.audio) {
      // Nobody to deliver to: count what Zoom would have sent in the default (mixed) mode.
      if (!conn || conn.misses('audio')) this.missed.audio++;
      return;
    }
    const a = sock.audio;
    const ts = this.startEpoch + t;
    if (multi) {
      for (const sp of speakerPcm(this.plan, t, sendRate)) {
        this.#sendAudio(conn!, sock, this.#encode(a, sp.pcm), sp.userId, sp.userName, ts);
      }
    } else {
      this.#sendAudio(conn!, sock, this.#encode(a, mixedPcm(this.plan, t, sendRate)), 0, '', ts);
    }
  }

  #encode(a: NonNullable<MediaSocket['audio']>, pcm16k: Int16Array): Buffer {
    return a.encoder.encode(toFrameFormat(pcm16k, { sampleRate: a.rate, channels: a.channels }));
  }

  #sendAudio(conn: Connection, sock: MediaSocket, data: Buffer, userId: number, userName: string, timestamp: number): void {
    const msg = `{"msg_type":14,"content":{"user_id":${userId},"user_name":${JSON.stringify(userName)},"data":"${data.toString('base64')}","timestamp":${timestamp}}}`;
    this.#deliver(conn, sock, 'audio', msg);
  }

  #video_(conn: Connection | undefined, t: number, kind: 'video' | 'deskshare'): void {
    const sock = conn?.socketFor(kind);
    const cfg = kind === 'video' ? sock?.video : sock?.deskshare;
    const countKind: CountKind = kind === 'video' ? 'video' : 'share';
    const fps = cfg ? Math.min(cfg.fps, cfg.codec === Codec.H264 ? 30 : 5) : kind === 'video' ? 25 : 5;
    const frameNo = Math.floor((t * fps) / 1000);
    const last = kind === 'video' ? (sock?.lastVideoFrame ?? -1) : (sock?.lastShareFrame ?? -1);
    if (sock && frameNo === last) return;
    if (!sock && Math.floor(((t - TICK_MS) * fps) / 1000) === frameNo && t > 0) return;
    const userId = kind === 'deskshare' ? this.#sharer : (conn?.videoUser ?? this.#activeSpeaker ?? [...this.#video][0]);
    if (userId === undefined || (kind === 'video' && !this.#video.has(userId))) return;
    if (!sock || !cfg) {
      if (!conn || conn.misses(kind)) this.missed[countKind]++;
      return;
    }
    if (kind === 'video') sock.lastVideoFrame = frameNo;
    else sock.lastShareFrame = frameNo;
    let data: Buffer;
    if (cfg.codec === Codec.H264) {
      const clip = loadH264(kind === 'video' ? 'camera' : 'share');
      if (kind === 'video' && sock.lastVideoUser !== userId) sock.videoIndex = 0; // a new speaker starts at a keyframe
      sock.lastVideoUser = kind === 'video' ? userId : sock.lastVideoUser;
      const index = kind === 'video' ? sock.videoIndex++ : sock.shareIndex++;
      data = clip.accessUnits[index % clip.accessUnits.length].data;
    } else {
      const frames = loadFrames(cfg.codec === Codec.PNG ? 'png' : 'jpg');
      const index = kind === 'video' ? sock.videoIndex++ : sock.shareIndex++;
      data = frames[index % frames.length];
    }
    const msg = JSON.stringify({
      msg_type: kind === 'video' ? MsgType.MEDIA_DATA_VIDEO : MsgType.MEDIA_DATA_SHARE,
      content: { user_id: userId, user_name: this.plan.names.get(userId) ?? '', data: data.toString('base64'), timestamp: this.startEpoch + t },
    });
    this.#deliver(conn!, sock, countKind, msg);
  }

  #planEvent(e: PlanEvent): void {
    const conn = this.conn && this.conn.ready && !this.conn.closed && !this.conn.isStalled(this.t) ? this.conn : undefined;
    const ts = this.startEpoch + e.atMs;
    const person = { user_id: e.userId, user_name: e.userName };
    switch (e.kind) {
      case 'transcript': {
        const sock = conn?.socketFor('transcript');
        if (!sock) {
          if (!conn || conn.misses('transcript')) this.missed.transcript++;
          return;
        }
        const lang = sock.transcript && sock.transcript.src_language >= 0 ? sock.transcript.src_language : 9;
        const content = { ...person, data: e.text, timestamp: ts, start_time: this.startEpoch + e.startMs, end_time: this.startEpoch + e.endMs, language: lang };
        this.#deliver(conn!, sock, 'transcript', JSON.stringify({ msg_type: MsgType.MEDIA_DATA_TRANSCRIPT, content }));
        return;
      }
      case 'chat': {
        const sock = conn?.socketFor('chat');
        if (!sock) {
          if (!conn || conn.misses('chat')) this.missed.chat++;
          return;
        }
        this.#deliver(conn!, sock, 'chat', JSON.stringify({ msg_type: MsgType.MEDIA_DATA_CHAT, content: { ...person, data: e.text, timestamp: ts } }));
        return;
      }
      case 'join':
        this.#present.add(e.userId);
        this.#eventOrMiss(conn, { event_type: EventType.PARTICIPANT_JOIN, timestamp: ts, participants: [person] });
        if (this.id.product === 'contact_center' && this.#present.size === 1) {
          this.#eventOrMiss(conn, { event_type: ContactCenterEventType.CONSUMER_ANSWERED, timestamp: ts, ...person });
        }
        return;
      case 'leave':
        this.#present.delete(e.userId);
        this.#video.delete(e.userId);
        this.#eventOrMiss(conn, { event_type: EventType.PARTICIPANT_LEAVE, timestamp: ts, participants: [person] });
        return;
      case 'active_speaker':
        this.#activeSpeaker = e.userId;
        this.#eventOrMiss(conn, { event_type: EventType.ACTIVE_SPEAKER_CHANGE, timestamp: ts, ...person });
        return;
      case 'share_start':
        if (this.#voiceOnly) return;
        this.#sharer = e.userId;
        this.#eventOrMiss(conn, { event_type: EventType.SHARING_START, timestamp: ts, ...person });
        return;
      case 'share_stop':
        if (this.#voiceOnly) return;
        this.#sharer = undefined;
        this.#eventOrMiss(conn, { event_type: EventType.SHARING_STOP, timestamp: ts, ...person });
        return;
      case 'video_on':
      case 'video_off':
        if (this.#voiceOnly) return;
        if (e.kind === 'video_on') this.#video.add(e.userId);
        else this.#video.delete(e.userId);
        this.#eventOrMiss(conn, { event_type: e.kind === 'video_on' ? EventType.PARTICIPANT_VIDEO_ON : EventType.PARTICIPANT_VIDEO_OFF, timestamp: ts, ...person });
        return;
    }
  }

  /** Applies a scenario event's effect on the meeting's state without sending anything (paused). */
  #silentEvent(e: PlanEvent): void {
    if (e.kind === 'join') this.#present.add(e.userId);
    else if (e.kind === 'leave') {
      this.#present.delete(e.userId);
      this.#video.delete(e.userId);
    } else if (e.kind === 'active_speaker') this.#activeSpeaker = e.userId;
    else if (e.kind === 'share_start' && this.id.product !== 'contact_center') this.#sharer = e.userId;
    else if (e.kind === 'share_stop') this.#sharer = undefined;
    else if (e.kind === 'video_on' && this.id.product !== 'contact_center') this.#video.add(e.userId);
    else if (e.kind === 'video_off') this.#video.delete(e.userId);
  }

  #eventOrMiss(conn: Connection | undefined, event: Record<string, unknown> & { event_type: number }): void {
    if (!conn) {
      this.missed.events++;
      return;
    }
    this.#event(conn, event);
  }

  #event(conn: Connection, event: Record<string, unknown> & { event_type: number }): void {
    // MEDIA_CONNECTION_INTERRUPTED is how the app learns to re-open media: sent whatever it subscribed to.
    if (conn.events && !conn.events.has(event.event_type) && event.event_type !== EventType.MEDIA_CONNECTION_INTERRUPTED) return;
    this.#deliver(conn, conn.signalingChannel, 'events', JSON.stringify({ msg_type: MsgType.EVENT_UPDATE, event }));
  }

  #signal(conn: Connection, msg: object): void {
    if (conn.signaling.readyState === WebSocket.OPEN) conn.signaling.send(JSON.stringify(msg));
  }

  #deliver(conn: Connection, channel: Channel, kind: CountKind, text: string): void {
    const ws = channel.ws;
    if (ws.readyState !== WebSocket.OPEN) {
      this.missed[kind]++;
      return;
    }
    ws.send(text);
    // Data is flowing on this socket: the server sends no keep-alive request on it this interval.
    if (channel.supervisor) channel.supervisor.dataSent = true;
    this.sent[kind]++;
    if (this.hooks.recordSent) this.sentLog.push({ kind, at_ms: this.t, message: text });
    if (kind !== 'events') this.#markRecovered(conn);
  }

  #markRecovered(conn: Connection): void {
    for (const f of this.#faults) {
      if (!f.fired || f.report.client_recovered) continue;
      // Recovery means media reaches a connection (or media socket) made ready after the fault; after
      // malformed frames the same connection, after a stall any connection once the stall is over.
      const { kind, atMs, durationMs } = f.fault;
      if (conn.readyAtMs >= atMs || (kind === 'malformed' && this.t > atMs) || (kind === 'stall' && this.t >= atMs + durationMs)) f.report.client_recovered = true;
    }
  }

  // ---- faults -------------------------------------------------------------------------------

  #fire(f: ArmedFault): void {
    f.fired = true;
    const { fault } = f;
    this.hooks.onFault(fault.spec, this.t);
    const conn = this.conn;
    switch (fault.kind) {
      case 'drop-signaling':
        // As Zoom does: both connections end and the `*.rtms_interrupted` webhook follows.
        if (conn) this.#signalingLost(conn);
        break;
      case 'drop-media':
        for (const m of conn?.media ?? []) m.ws.terminate();
        break;
      case 'stall':
        if (conn) conn.stalledUntilMs = this.t + fault.durationMs;
        break;
      case 'kick':
        if (conn) {
          this.kicked++;
          this.hooks.onKick();
          this.#kick(conn);
          this.conn = undefined;
        }
        break;
      case 'malformed':
        for (const ws of conn ? [conn.signaling, ...conn.media.map((m) => m.ws)] : []) {
          if (ws.readyState !== WebSocket.OPEN) continue;
          ws.send('{"msg_type":14,"content":{"data":');
          ws.send(JSON.stringify({ msg_type: 999, content: {} }));
        }
        // Oversized: larger than the 16 MiB frames clients accept by default.
        for (const m of conn?.media ?? []) if (m.ws.readyState === WebSocket.OPEN) m.ws.send(Buffer.alloc(17 * 1024 * 1024, 0x20));
        break;
      case 'restart':
        this.hooks.onRestart(fault.durationMs);
        break;
    }
  }

  /** Ends a connection the way a takeover does: TERMINATED with INSTANCE_CONNECTION_INTERRUPTED, then close 4001. */
  #kick(conn: Connection): void {
    conn.endedByServer = true;
    this.#signal(conn, {
      msg_type: MsgType.STREAM_STATE_UPDATE,
      rtms_stream_id: this.id.rtmsStreamId,
      state: StreamState.TERMINATED,
      reason: StopReason.STOP_BC_INSTANCE_CONNECTION_INTERRUPTED,
      timestamp: Date.now(),
    });
    conn.close(KICK_CLOSE_CODE, 'replaced by a new connection');
  }

  #finish(): void {
    this.phase = 'ended';
    const conn = this.conn;
    if (conn && !conn.closed) {
      const ts = this.startEpoch + this.t;
      const reason = this.stopReason;
      if (this.id.product === 'contact_center' && this.endedBy === 'scenario') {
        this.#event(conn, { event_type: ContactCenterEventType.CONSUMER_END, timestamp: ts });
      }
      this.#signal(conn, { msg_type: MsgType.STREAM_STATE_UPDATE, rtms_stream_id: this.id.rtmsStreamId, state: StreamState.TERMINATED, reason, timestamp: ts });
      this.#signal(conn, { msg_type: MsgType.SESSION_STATE_UPDATE, state: SessionState.STOPPED, stop_reason: reason, timestamp: ts });
      // Give the messages a moment to leave before closing.
      conn.endedByServer = true;
      setTimeout(() => conn.close(1000, 'stream ended'), 50).unref();
    }
    this.conn = undefined;
  }

  async #drain(): Promise<void> {
    // As fast as the client reads: yield to I/O every tick and wait while a socket is backed up.
    await new Promise<void>((r) => setImmediate(r));
    const sockets = this.conn ? [this.conn.signaling, ...this.conn.media.map((m) => m.ws)] : [];
    for (let i = 0; i < 2000 && sockets.some((ws) => ws.readyState === WebSocket.OPEN && ws.bufferedAmount > 1 << 20); i++) await sleep(2);
  }

  /** For tests: the media kinds a socket route carries. */
  static routeKinds(route: string): MediaKind[] | undefined {
    const all: MediaKind[] = ['audio', 'video', 'deskshare', 'transcript', 'chat'];
    return route === 'all' ? all : (all as string[]).includes(route) ? [route as MediaKind] : undefined;
  }
}


function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
