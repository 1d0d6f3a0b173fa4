/**
 * The Zoom side of RTMS on loopback: signed webhooks, signaling and media servers, scenarios
 * played at the real cadence (or as fast as the client reads), fault injection and a summary of
 * what was sent, missed and acknowledged.
 *
 * ```ts
 * const emu = new Emulator({ clientId, clientSecret, secretToken, webhookUrl: 'http://127.0.0.1:8080/webhook' });
 * await emu.start();
 * const summary = await emu.run();   // plays every stream to the end
 * await emu.close();
 * ```
 */
import { ID_FIELD, KEEPALIVE_INTERVAL_MS, KEEPALIVE_MAX_MISSED, RECONNECT_WINDOW_MS, WEBHOOK_EVENTS, type Product } from '../protocol/index.js';
import { OpenRtmsError } from '../errors.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { parseFault, type Fault } from './faults.js';
import { hexId, meetingUuid, mulberry32 } from './rng.js';
import { compileScenario, demoScenario, type Plan, type Scenario } from './scenario.js';
import { EmulatorServer, type HandshakeInfo } from './server.js';
import { EmulatedStream, type StreamIdentity } from './stream.js';
import { Counters, KINDS, zeroCounts, type EmulatorSummary, type StreamReport } from './summary.js';
import { WebhookSender } from './webhook-sender.js';
import { RestControl, type RestAction, type RestTargetKind } from './rest.js';

export interface EmulatorOptions {
  clientId: string;
  clientSecret: string;
  /** Webhook secret token (signs webhooks). */
  secretToken: string;
  host?: string;
  /** 0 picks a free port. Default 0. */
  port?: number;
  /** Where webhooks are POSTed. */
  webhookUrl?: string;
  /** In-process webhook delivery instead of HTTP. */
  onWebhook?: (body: Record<string, unknown>) => unknown;
  /** One product for every stream, or a list assigned round-robin. Default: the scenario's, else meeting. */
  product?: Product | Product[];
  scenario?: Scenario;
  /** Concurrent streams. Default 1. */
  meetings?: number;
  seed?: number;
  /** Send as fast as the client reads instead of in real time. */
  fast?: boolean;
  faults?: (Fault | string)[];
  /** KEEP_ALIVE_REQ period on a socket where no data flows. Default 10 s, as Zoom. */
  keepAliveIntervalMs?: number;
  /** Unanswered keep-alive requests in a row that end a connection. Default 3, as Zoom. */
  keepAliveMaxMissed?: number;
  /**
   * How long a stream waits for the app to come back after its signaling (default 60 s) or a media
   * connection (default 30 s) dropped, before it ends with AWAIT_RECONNECTION_TIMEOUT.
   */
  reconnectWindowMs?: { signaling?: number; media?: number };
  /** How long a stream waits for its first client before its clock starts anyway. Default 10 s. */
  waitForClientMs?: number;
  /**
   * Keep every message delivered to a client, per stream, in `emulator.streams[i].sentLog`
   * (exact wire text with its scenario time), so tests can compare what a client recorded with
   * what was sent. Off by default (memory grows with the scenario).
   */
  recordSent?: boolean;
  /**
   * On-demand streams: no RTMS until Zoom's REST API is asked to start it (`PATCH
   * …/rtms_app/status {"action":"start"}` on this emulator's port); then the started webhook goes
   * out and the scenario plays. Without it streams start at once, and the REST API still stops,
   * pauses and resumes them.
   */
  onDemand?: boolean;
  /** Lifetime of the REST API's OAuth tokens, seconds. Default 3599. */
  tokenTtlS?: number;
}

/**
 * Events of {@link Emulator} (typed `on`). Observing them never changes what the emulator does.
 * - `webhook`: a webhook body about to be delivered (each copy of a duplicate, each retry excluded)
 * - `connection`: a WebSocket was accepted, before any handshake
 * - `handshake`: a signaling or media handshake was answered (status 0 or a failure status)
 * - `kicked`: a client's connection was ended as Zoom does on a takeover (fault `kick`)
 * - `fault`: a timed fault fired
 * - `streamEnd`: a stream finished (after its stop webhook), with its report
 */
export interface EmulatorEvents {
  webhook: [Record<string, unknown>];
  connection: [{ role: 'signaling' | 'media'; path: string }];
  handshake: [HandshakeInfo];
  kicked: [{ rtmsStreamId: string; by: 'fault' }];
  fault: [{ spec: string; atMs: number; rtmsStreamId: string }];
  streamEnd: [StreamReport];
}

export class Emulator extends TypedEmitter<EmulatorEvents> {
  readonly streams: EmulatedStream[] = [];
  readonly counters = new Counters();
  readonly faults: Fault[];
  readonly #opts: EmulatorOptions;
  readonly #server: EmulatorServer;
  readonly #sender: WebhookSender;
  readonly #byId = new Map<string, EmulatedStream>();
  #restarts = new Set<string>();
  #sendHooks = new Set<Promise<unknown>>();
  /** On-demand streams waiting for their REST start call. */
  readonly #startGates = new Map<string, () => void>();
  /** Zoom's REST endpoints (OAuth token and rtms_app/status) served on this emulator's port. */
  readonly rest: RestControl;
  #started = false;
  #closed = false;
  #running?: Promise<EmulatorSummary>;

  constructor(options: EmulatorOptions) {
    super();
    for (const k of ['clientId', 'clientSecret', 'secretToken'] as const) {
      if (!options[k]) throw new OpenRtmsError('CONFIG_MISSING', `Emulator needs ${k}`);
    }
    if (!options.webhookUrl && !options.onWebhook) throw new OpenRtmsError('CONFIG_MISSING', 'Emulator needs webhookUrl or onWebhook');
    this.#opts = options;
    this.faults = (options.faults ?? []).map((f) => (typeof f === 'string' ? parseFault(f) : f));
    this.rest = new RestControl({
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      tokenTtlS: options.tokenTtlS,
      knows: (kind, id) => this.#byMeeting(kind, id) !== undefined,
      control: (kind, id, action) => this.#control(this.#byMeeting(kind, id)!, action),
    });
    this.#server = new EmulatorServer({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      keepAliveIntervalMs: options.keepAliveIntervalMs ?? KEEPALIVE_INTERVAL_MS,
      keepAliveMaxMissed: options.keepAliveMaxMissed ?? KEEPALIVE_MAX_MISSED,
      counters: this.counters,
      lookup: (id) => this.#byId.get(id),
      rest: this.rest,
      hooks: {
        connection: (info) => this.emit('connection', info),
        handshake: (info) => this.emit('handshake', info),
      },
    });
    this.#sender = new WebhookSender({ url: options.webhookUrl, deliver: options.onWebhook, secretToken: options.secretToken }, this.counters);
    this.#createStreams();
  }

  get port(): number {
    return this.#server.port;
  }

  /** `http://host:port` of this emulator: its REST API (`--zoom-api URL` of `openrtms control`). */
  get httpUrl(): string {
    return this.#server.baseUrl.replace(/^ws:/, 'http:');
  }

  /** The stream a REST call names: by meeting UUID (meetings, webinars), session id or call id. */
  #byMeeting(kind: RestTargetKind, id: string): EmulatedStream | undefined {
    const products: readonly string[] = kind === 'meeting' ? ['meeting', 'webinar'] : kind === 'session' ? ['session'] : ['phone'];
    return this.streams.find((s) => s.id.meetingUuid === id && products.includes(s.id.product));
  }

  /** Applies a REST action; a string is why it cannot be applied now. */
  #control(stream: EmulatedStream, action: RestAction): string | undefined {
    const gate = this.#startGates.get(stream.id.rtmsStreamId);
    if (action === 'start') {
      if (!gate) return stream.ended ? 'The meeting has ended.' : 'RTMS is already started for this app.';
      this.#startGates.delete(stream.id.rtmsStreamId);
      gate();
      return undefined;
    }
    if (gate || stream.ended) return 'RTMS is not running for this app.';
    if (action === 'stop') stream.endByApi();
    else if (action === 'pause') {
      if (stream.paused) return 'RTMS is already paused.';
      if (stream.phase !== 'running') return 'RTMS has not started streaming yet.';
      stream.pause();
    } else {
      if (!stream.paused) return 'RTMS is not paused.';
      stream.resume();
    }
    return undefined;
  }

  signalingUrl(streamId: string): string {
    return this.#server.signalingUrl(streamId);
  }

  /** Starts listening for signaling and media connections. */
  async start(): Promise<void> {
    if (this.#started) return;
    await this.#server.listen();
    this.#started = true;
  }

  /** Sends the start webhooks, plays every stream to its end, sends the stop webhooks. */
  run(): Promise<EmulatorSummary> {
    if (!this.#started) throw new OpenRtmsError('RTMS_INVALID_STATE', 'call start() before run()');
    this.#running ??= this.#run();
    return this.#running;
  }

  /**
   * The webhook payload that announces a stream (what a gateway would receive), with the current
   * server instance's URL. Webinar payloads carry the id as both `meeting_uuid` and `webinar_uuid`.
   */
  startPayload(stream: EmulatedStream): Record<string, unknown> {
    return { ...this.#idPayload(stream), server_urls: this.#server.signalingUrl(stream.id.rtmsStreamId) };
  }

  #idPayload(stream: EmulatedStream): Record<string, unknown> {
    const { id } = stream;
    return {
      [id.idField]: id.meetingUuid,
      ...(id.product === 'webinar' ? { webinar_uuid: id.meetingUuid } : {}),
      operator_id: id.operatorId,
      rtms_stream_id: id.rtmsStreamId,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const gate of this.#startGates.values()) gate();
    this.#startGates.clear();
    for (const s of this.streams) s.abort();
    await this.#server.close();
  }

  /** The summary so far (final once run() resolved). */
  summary(durationS = 0, completed = false): EmulatorSummary {
    const sent = zeroCounts();
    const missed = zeroCounts();
    for (const s of this.streams) {
      for (const k of KINDS) {
        sent[k] += s.sent[k];
        missed[k] += s.missed[k];
      }
    }
    const c = this.counters;
    return {
      streams: this.streams.length,
      duration_s: Math.round(durationS * 1000) / 1000,
      completed,
      sent,
      missed,
      webhooks: { ...c.webhooks },
      connections: { ...c.connections },
      keepalive: { ...c.keepalive },
      bad_client_frames: c.badClientFrames,
      faults: this.streams.flatMap((s) => s.faultReports),
      per_stream: this.streams.map((s) => s.report()),
    };
  }

  #createStreams(): void {
    const o = this.#opts;
    const seed = o.seed ?? 1;
    const rng = mulberry32(seed);
    const scenario = o.scenario ?? demoScenario(60);
    const products: Product[] = Array.isArray(o.product) ? o.product : [o.product ?? scenario.product ?? 'meeting'];
    const plan: Plan = compileScenario(scenario, seed);
    const n = o.meetings ?? 1;
    for (let i = 0; i < n; i++) {
      const product = products[i % products.length];
      const idField = ID_FIELD[product];
      const id: StreamIdentity = {
        rtmsStreamId: hexId(rng),
        product,
        idField,
        meetingUuid: idField === 'meeting_uuid' ? meetingUuid(rng) : hexId(rng, 24),
        operatorId: `op_${hexId(rng, 12)}`,
      };
      const stream = new EmulatedStream(id, plan, this.faults, {
        fast: o.fast ?? false,
        waitForClientMs: o.waitForClientMs ?? 10_000,
        onRestart: (ms) => this.#restart(ms),
        onInterrupted: () => this.#announce(stream, 'interrupted'),
        reconnectWindowMs: {
          signaling: o.reconnectWindowMs?.signaling ?? RECONNECT_WINDOW_MS.signaling,
          media: o.reconnectWindowMs?.media ?? RECONNECT_WINDOW_MS.media,
        },
        onKick: () => {
          this.counters.connections.kicked++;
          this.emit('kicked', { rtmsStreamId: id.rtmsStreamId, by: 'fault' });
        },
        recordSent: o.recordSent ?? false,
        onFault: (spec, atMs) => this.emit('fault', { spec, atMs, rtmsStreamId: id.rtmsStreamId }),
      });
      this.streams.push(stream);
      this.#byId.set(id.rtmsStreamId, stream);
    }
  }

  /**
   * Fault `restart`, an RTMS server failure as Zoom documents it: every connection drops with no
   * notice, the servers are gone for `ms`, then a new `*.rtms_started` arrives for each live stream
   * with fresh `server_urls` (the new server instance).
   */
  #restart(ms: number): void {
    const key = `restart:${ms}`;
    if (this.#restarts.has(key)) return;
    this.#restarts.add(key);
    void this.#server
      .restart(ms, () => {
        for (const s of this.streams) s.serverDown(ms);
      })
      .then(() => {
        for (const s of this.streams) if (!s.ended) this.#announce(s, 'started');
      });
  }

  /** Sends a lifecycle webhook for a stream outside its start/stop sequence (restart, interruption). */
  #announce(stream: EmulatedStream, lifecycle: 'started' | 'interrupted'): void {
    if (this.#closed) return;
    // Both carry the current server instance's signaling URL (Zoom's sample reconnects to it).
    const body = { event: WEBHOOK_EVENTS[stream.id.product][lifecycle], event_ts: Date.now(), payload: this.startPayload(stream) };
    this.emit('webhook', body);
    const sent = this.#sender.send(body).finally(() => this.#sendHooks.delete(sent));
    this.#sendHooks.add(sent);
  }

  async #run(): Promise<EmulatorSummary> {
    const t0 = performance.now();
    await Promise.all(this.streams.map((s) => this.#runStream(s)));
    return this.summary((performance.now() - t0) / 1000, !this.#closed);
  }

  async #runStream(stream: EmulatedStream): Promise<void> {
    const dup = this.faults.find((f) => f.kind === 'duplicate-webhook');
    const copies = dup && dup.kind === 'duplicate-webhook' ? dup.count : 1;
    const delay = this.faults.find((f) => f.kind === 'webhook-delay');
    const outOfOrder = this.faults.some((f) => f.kind === 'out-of-order');
    const events = WEBHOOK_EVENTS[stream.id.product];
    if (this.#opts.onDemand) {
      // No RTMS until Zoom's REST API is asked to start it.
      await new Promise<void>((resolve) => this.#startGates.set(stream.id.rtmsStreamId, resolve));
      if (this.#closed) return;
    }
    const started = { event: events.started, event_ts: Date.now(), payload: this.startPayload(stream) };
    const send = async (body: Record<string, unknown>, n: number) => {
      for (let i = 0; i < n && !this.#closed; i++) {
        if (delay && delay.kind === 'webhook-delay') await new Promise((r) => setTimeout(r, delay.delayMs));
        this.emit('webhook', body);
        await this.#sender.send(body);
      }
    };
    // Webhooks go out while the stream waits for its client, as with Zoom.
    const announced = send(started, copies);
    await stream.run();
    await announced;
    await Promise.all(this.#sendHooks);
    await send({ event: events.stopped, event_ts: Date.now(), payload: { ...this.#idPayload(stream), stop_reason: stream.stopReason } }, copies);
    if (outOfOrder) await send({ ...started, event_ts: Date.now() }, 1);
    this.emit('streamEnd', stream.report());
  }
}
