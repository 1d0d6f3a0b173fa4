/**
 * The server's speech-to-text: one adapter per `transcription` entry, a TranscriptionSink per entry
 * and matching stream, and their figures in /metrics (per source: audio sent, dropped and resent,
 * reconnects, segments) and in each stream's stats (`stt_<source>_…`).
 */
import { Gauge, type Registry } from 'prom-client';
import type { StreamInfo, StreamSink } from '../../pipeline/types.js';
import { transcriptionMatches, type TranscriptionConfig } from './config.js';
import { assertProvidersBuilt, createSttAdapter, STT_PROVIDERS } from './providers.js';
import { TranscriptionSink, type TranscriptionSinkLogger, type TranscriptionStats } from './sink.js';
import type { SttAdapter } from './types.js';

export interface TranscriptionOptions {
  entries: TranscriptionConfig[];
  logger?: TranscriptionSinkLogger;
  register?: Registry;
  /** Adds a finished stream's figures to its stats row. */
  addStats?(rtmsStreamId: string, stats: Record<string, number>): void;
  /** Tests: adapter factories and reconnect tuning. */
  providers?: typeof STT_PROVIDERS;
  backoffMs?: number;
  finishTimeoutMs?: number;
}

type Totals = Pick<TranscriptionStats, 'sentMs' | 'droppedMs' | 'resentMs' | 'reconnects' | 'segments' | 'failedConnects'>;
const TOTAL_KEYS: (keyof Totals)[] = ['sentMs', 'droppedMs', 'resentMs', 'reconnects', 'segments', 'failedConnects'];

export class Transcription {
  readonly #o: TranscriptionOptions;
  readonly #adapters: { config: TranscriptionConfig; adapter: SttAdapter }[];
  /** Open sinks, for live figures. */
  readonly #open = new Set<TranscriptionSink>();
  /** Figures of closed sinks, per source. */
  readonly #closed = new Map<string, Totals>();

  constructor(options: TranscriptionOptions) {
    this.#o = options;
    assertProvidersBuilt(options.entries, options.providers);
    this.#adapters = options.entries.map((config) => ({ config, adapter: createSttAdapter(config, options.providers) }));
    if (options.register) this.#registerMetrics(options.register);
  }

  /** The sources configured (track names), in config order. */
  get sources(): string[] {
    return this.#adapters.map((a) => a.config.name);
  }

  sinksFor(info: StreamInfo): StreamSink[] {
    return this.#adapters
      .filter((a) => transcriptionMatches(a.config, info))
      .map(({ config, adapter }) => {
        const sink: TranscriptionSink = new TranscriptionSink({
          config,
          adapter,
          info,
          logger: this.#o.logger,
          ...(this.#o.backoffMs !== undefined ? { backoffMs: this.#o.backoffMs } : {}),
          ...(this.#o.finishTimeoutMs !== undefined ? { finishTimeoutMs: this.#o.finishTimeoutMs } : {}),
          onStats: (s) => {
            this.#open.delete(sink);
            const t = this.#closed.get(s.source) ?? { sentMs: 0, droppedMs: 0, resentMs: 0, reconnects: 0, segments: 0, failedConnects: 0 };
            for (const k of TOTAL_KEYS) t[k] += s[k];
            this.#closed.set(s.source, t);
            const p = `stt_${s.source.replace(/[^a-z0-9]/gi, '_')}_`;
            this.#o.addStats?.(info.rtmsStreamId, { [`${p}sent_ms`]: s.sentMs, [`${p}dropped_ms`]: s.droppedMs, [`${p}resent_ms`]: s.resentMs, [`${p}reconnects`]: s.reconnects, [`${p}segments`]: s.segments });
          },
        });
        this.#open.add(sink);
        return sink;
      });
  }

  /** Totals per source: closed streams plus the open ones now. */
  totals(): Map<string, Totals> {
    const out = new Map<string, Totals>();
    for (const [k, v] of this.#closed) out.set(k, { ...v });
    for (const s of this.#open) {
      const st = s.stats;
      const t = out.get(st.source) ?? { sentMs: 0, droppedMs: 0, resentMs: 0, reconnects: 0, segments: 0, failedConnects: 0 };
      for (const k of TOTAL_KEYS) t[k] += st[k];
      out.set(st.source, t);
    }
    return out;
  }

  #registerMetrics(register: Registry): void {
    const labelNames = ['source'];
    const gauge = (name: string, help: string, key: keyof Totals, scale = 1) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [register],
        collect: function (this: Gauge) {
          for (const [source, t] of totalsOf()) this.set({ source }, t[key] / scale);
        },
      });
    const totalsOf = () => this.totals();
    gauge('openrtms_stt_audio_sent_seconds', 'Audio sent to the speech-to-text provider (resent audio counts again), per source', 'sentMs', 1000);
    gauge('openrtms_stt_audio_dropped_seconds', 'Audio never sent because the bounded buffer overflowed while the provider was unreachable, per source', 'droppedMs', 1000);
    gauge('openrtms_stt_audio_resent_seconds', 'Unconfirmed audio sent again after a reconnect, per source', 'resentMs', 1000);
    gauge('openrtms_stt_reconnects', 'Provider connections that closed unexpectedly, per source', 'reconnects');
    gauge('openrtms_stt_failed_connects', 'Failed attempts to open a provider connection, per source', 'failedConnects');
    gauge('openrtms_stt_segments', 'Final transcript segments made, per source', 'segments');
  }
}
