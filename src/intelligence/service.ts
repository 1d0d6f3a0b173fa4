/**
 * Intelligence: one per process, built from the config file's `intelligence` entry. Gives each
 * matching stream its NotesSink, counts tokens and cost, and answers questions about a stored
 * meeting (MCP `ask`). Without the entry there is no Intelligence and nothing is ever sent.
 */
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { eventId } from '../delivery/ids.js';
import type { DeliveryEvent } from '../delivery/types.js';
import { OpenRtmsError } from '../errors.js';
import type { LiveMessage } from '../live/types.js';
import type { StreamInfo, StreamSink } from '../pipeline/types.js';
import { safeName } from '../recorder/paths.js';
import type { Store, SummaryRecord } from '../store/types.js';
import { createLlmClient, type LlmClient } from './llm/index.js';
import { LlmMetrics } from './metrics.js';
import { formatLine, offsetClock, type PromptLine } from './prompts.js';
import { retrieve } from './retrieve.js';
import { NotesSink } from './sink.js';
import { Summarizer } from './summarizer.js';
import { readTranscript } from './transcript.js';
import type { IntelligenceConfig, TokenUsage } from './types.js';

export interface IntelligenceOptions {
  config: IntelligenceConfig;
  store: Store;
  /** The live feed (`summary` messages). */
  publish?: (message: LiveMessage) => void;
  /** Delivery destinations (`summary.ready`). */
  emit?: (event: DeliveryEvent) => void;
  /** Where the `openrtms_llm_*` metrics go. */
  register?: Registry;
  /** summary.md goes into `<dataDir>/recordings/<stream>/`. */
  dataDir?: string;
  /** Default: the config's provider through its official SDK. */
  client?: LlmClient;
}

/** A passage `ask` relied on. */
export interface Citation {
  /** mm:ss from the stream's start. */
  time: string;
  timestamp: number;
  speaker: string;
  text: string;
}

export interface Answer {
  answer: string;
  citations: Citation[];
  model: string;
  usage: TokenUsage;
}

export class Intelligence {
  readonly config: IntelligenceConfig;
  readonly summarizer: Summarizer;
  readonly metrics: LlmMetrics;
  /** Sinks whose close() has not finished. */
  readonly #open = new Set<NotesSink>();

  constructor(private readonly o: IntelligenceOptions) {
    this.config = o.config;
    this.metrics = new LlmMetrics(o.config, o.register);
    this.summarizer = new Summarizer(o.client ?? createLlmClient(o.config), o.config, this.metrics.observe);
  }

  matches(info: Pick<StreamInfo, 'product' | 'meetingUuid'>): boolean {
    const m = this.config.match;
    return !m || ((!m.products || m.products.includes(info.product)) && (!m.meetingIds || m.meetingIds.includes(info.meetingUuid)));
  }

  /** The stream's NotesSink (none when the config's `match` leaves it out). */
  sinksFor(info: StreamInfo, hooks: { recordingClosed?: () => Promise<void>; storeFlushed?: () => Promise<void> } = {}): StreamSink[] {
    if (!this.matches(info)) return [];
    const sink: NotesSink = new NotesSink({
      info,
      config: this.config,
      summarizer: this.summarizer,
      store: this.o.store,
      metrics: this.metrics,
      publish: (m) => this.o.publish?.(m),
      announce: (r) => this.#announce(info, r),
      storedLines: () => this.storedLines(info),
      storeFlushed: hooks.storeFlushed,
      ...(this.o.dataDir ? { recordingDir: join(this.o.dataDir, 'recordings', safeName(info.rtmsStreamId)), recordingClosed: hooks.recordingClosed } : {}),
      onFinished: () => this.#open.delete(sink),
    });
    this.#open.add(sink);
    return [sink];
  }

  /**
   * Server shutdown: lets the streams' final summaries finish (each sink closed; bounded), before the
   * store and the destinations close under them.
   */
  async drain(timeoutMs = Math.min(this.config.timeoutSeconds * 1000, 30_000)): Promise<void> {
    if (this.#open.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.#open].map((s) => s.close())), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** The stream's stored transcript (and new chat messages when configured), as prompt lines. */
  async storedLines(info: Pick<StreamInfo, 'rtmsStreamId'>): Promise<PromptLine[]> {
    const [segments, chat] = await Promise.all([readTranscript(this.o.store, info.rtmsStreamId, this.config.source), this.config.includeChat ? this.o.store.chat(info.rtmsStreamId) : []]);
    return [
      ...segments.map((s) => ({ at: s.timestamp, speaker: s.userName || `user ${s.userId}`, text: s.text })),
      ...chat.filter((c) => c.text.trim()).map((c) => ({ at: c.timestamp, speaker: c.userName || `user ${c.userId}`, text: c.text, chat: true })),
    ];
  }

  #announce(info: StreamInfo, r: SummaryRecord): void {
    this.o.emit?.({
      // Keyed by what was summarised: a summary redone over more of the meeting (a cluster takeover) is a new event.
      id: eventId(info.rtmsStreamId, 'summary.ready', [r.inputTokens]),
      type: 'summary.ready',
      createdAt: r.updatedAt,
      stream: { rtmsStreamId: info.rtmsStreamId, meetingUuid: info.meetingUuid, product: info.product },
      data: {
        url: `/api/streams/${encodeURIComponent(info.rtmsStreamId)}/summary`,
        model: r.model,
        ...r.summary,
        notes: r.notes,
        inputTokens: r.inputTokens,
        outputTokens: r.outputTokens,
        ...(r.costUsd !== undefined ? { costUsd: r.costUsd } : {}),
      },
    });
  }

  /** Answers a question about one stored stream from its most relevant transcript passages. */
  async ask(rtmsStreamId: string, question: string, source?: string): Promise<Answer> {
    const stream = await this.o.store.getStream(rtmsStreamId);
    if (!stream) throw new OpenRtmsError('INTELLIGENCE_NOT_FOUND', `no stream ${rtmsStreamId}; list_meetings gives the ids`);
    const segments = await readTranscript(this.o.store, rtmsStreamId, source ?? this.config.source);
    const hits = retrieve(segments, (s) => `${s.userName} ${s.text}`, question);
    const lines = hits.map((h) => formatLine({ at: h.item.timestamp, speaker: h.item.userName, text: h.item.text }, stream.startedAt));
    const r = await this.summarizer.answer(question, lines);
    return {
      answer: r.answer,
      citations: hits.map((h) => ({ time: offsetClock(h.item.timestamp, stream.startedAt), timestamp: h.item.timestamp, speaker: h.item.userName, text: h.item.text })),
      model: this.config.model,
      usage: r.usage,
    };
  }
}
