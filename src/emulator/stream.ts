/**
 * One emulated RTMS stream: a scenario clock that generates media at the real cadence and delivers
 * it to whichever client connection currently holds the stream. What is generated while no client
 * (or no socket for that kind) is connected is counted as missed, so a recording and the summary
 * together show exactly what was lost.
 */
import WebSocket from 'ws';
import {
  ChatGroupEventType,
  ChatGroupType,
  ChatSessionType,
  Codec,
  ContactCenterEventType,
  formatChatData,
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
  /** The app is paused (a user or the REST API): no media is generated, keep-alives go on. */
  #paused = false;
  /** Scenario time at which a `pause` fault resumes the stream. */
  #resumeAtMs?: number;

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
    // A client that connects while the app is paused learns it at once.
    if (this.#paused) this.#pauseSignals(conn, true, ts);
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

  /** True while the app is paused. */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Pauses the app, as a user (or Zoom's REST API, action `pause`) does: STREAM_STATE PAUSED and
   * SESSION_STATE PAUSED go to the client, then no media is generated (nor counted missed) until
   * `resume()`; the connection and its keep-alives stay. Idempotent.
   */
  pause(): void {
    if (this.#paused || this.phase === 'ended') return;
    this.#paused = true;
    const conn = this.#live();
    if (conn) this.#pauseSignals(conn, true, this.startEpoch + this.t);
  }

  /** Resumes a paused app (STREAM_STATE RESUMED, SESSION_STATE RESUMED); media flows again. Idempotent. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#resumeAtMs = undefined;
    const conn = this.#live();
    if (conn && this.phase !== 'ended') this.#pauseSignals(conn, false, this.startEpoch + this.t);
  }

  #live(): Connection | undefined {
    return this.conn && this.conn.ready && !this.conn.closed ? this.conn : undefined;
  }

  #pauseSignals(conn: Connection, paused: boolean, ts: number): void {
    this.#signal(conn, { msg_type: MsgType.STREAM_STATE_UPDATE, rtms_stream_id: this.id.rtmsStreamId, state: paused ? StreamState.PAUSED : StreamState.RESUMED, timestamp: ts });
    this.#signal(conn, { msg_type: MsgType.SESSION_STATE_UPDATE, state: paused ? SessionState.PAUSED : SessionState.RESUMED, timestamp: ts });
  }

  /** Stops the clock (emulator shutting down). */
  abort(): void {
    if (this.phase !== 'ended') this.endedBy = 'emulator-closed';
    this.#stopRequested = true;
    for (const w of this.#readyWaiters.splice(0)) w();
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
    if (this.#resumeAtMs !== undefined && t >= this.#resumeAtMs) this.resume();
    for (const f of this.#faults) if (!f.fired && f.fault.atMs <= t) this.#fire(f);
    this.#checkReconnectWindows(t);
    const events = this.plan.events;
    while (this.#eventIndex < events.length && events[this.#eventIndex].atMs <= t) this.#planEvent(events[this.#eventIndex++]);
    // Paused: the meeting goes on but the app receives no media, and none of it counts as missed.
    if (this.#paused) return;
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
    // Media kinds (transcript, chat) are not generated while paused; signaling events still describe the meeting.
    if (this.#paused && (e.kind === 'transcript' || e.kind === 'chat')) return;
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
        let data: string;
        if (this.plan.chatFormat === 'legacy') {
          // Older servers: plain text, and nothing but new messages.
          if (e.operation !== 'new') return;
          data = e.text;
        } else {
          const type = { everyone: ChatSessionType.EVERYONE, individual: ChatSessionType.INDIVIDUAL, chat_group: ChatSessionType.CHAT_GROUP, hosts_and_panelists: ChatSessionType.HOSTS_AND_PANELISTS }[e.audience];
          data = formatChatData({
            operation: e.operation,
            text: e.text,
            messageId: e.messageId,
            ...(e.parentMessageId ? { parentMessageId: e.parentMessageId } : {}),
            chatSession: { type },
            sender: person,
            ...(e.to ? { receiver: { user_id: e.to.userId, user_name: e.to.userName } } : {}),
            ...(e.emoji ? { emoji: e.emoji } : {}),
          });
        }
        this.#deliver(conn!, sock, 'chat', JSON.stringify({ msg_type: MsgType.MEDIA_DATA_CHAT, content: { ...person, data, timestamp: ts } }));
        return;
      }
      case 'chat_group': {
        // Contact Center uses 10–14 for its own call events: no chat groups there.
        if (this.id.product === 'contact_center') return;
        const members = e.members.map((m) => ({ chat_group_id: e.groupId, user_id: m.userId, user_name: m.userName }));
        // Field layout as Zoom's library types it (chat_groups, members_update_list, member_status_update_list); details unconfirmed.
        const event =
          e.action === 'create'
            ? { event_type: ChatGroupEventType.CHAT_GROUP_CREATE, chat_groups: [{ chat_group_id: e.groupId, chat_group_type: ChatGroupType.PRIVATE_CHAT_GROUP, members }] }
            : e.action === 'delete'
              ? { event_type: ChatGroupEventType.CHAT_GROUP_DELETE, chat_groups: [{ chat_group_id: e.groupId }] }
              : e.action === 'member_status'
                ? { event_type: ChatGroupEventType.CHAT_GROUP_MEMBER_STATUS_UPDATE, member_status_update_list: members.map((m) => ({ ...m, status: e.status ?? 0 })) }
                : { event_type: e.action === 'members_add' ? ChatGroupEventType.CHAT_GROUP_MEMBERS_ADD : ChatGroupEventType.CHAT_GROUP_MEMBERS_DELETE, members_update_list: members };
        this.#eventOrMiss(conn, { ...event, timestamp: ts, ...person });
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
      // malformed frames the same connection, after a stall any connection once the stall is over,
      // after a pause the same connection once the stream resumed (nothing is generated while paused).
      const { kind, atMs, durationMs } = f.fault;
      if (
        conn.readyAtMs >= atMs ||
        (kind === 'malformed' && this.t > atMs) ||
        (kind === 'stall' && this.t >= atMs + durationMs) ||
        (kind === 'pause' && this.t > atMs && !this.#paused)
      )
        f.report.client_recovered = true;
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
      case 'pause':
        this.pause();
        this.#resumeAtMs = this.t + fault.durationMs;
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
