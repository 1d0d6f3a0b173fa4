/**
 * NotesSink: one stream's LLM notes and summary, on the pipeline contract. Its handlers only append
 * the line to a bounded list (lines beyond the bound are dropped and counted); every
 * `notesEveryMinutes` the lines said since the last update go to the LLM with the notes so far, in
 * the background, one request chain at a time. When the stream ends (`close`), the whole meeting is
 * summarised (chunked when long), stored, published live, announced (`summary.ready`) and written as
 * `summary.md` into the recording, once the recorder has finished its files.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LiveSummaryMessage } from '../live/types.js';
import type { ChatMessage, StreamInfo, StreamSink, TranscriptFrame } from '../pipeline/types.js';
import type { Store, SummaryRecord } from '../store/types.js';
import type { LlmMetrics } from './metrics.js';
import { formatLine, type PromptLine } from './prompts.js';
import { summaryMarkdown } from './summary.js';
import type { Summarizer } from './summarizer.js';
import type { IntelligenceConfig, TokenUsage } from './types.js';

/** Lines kept per stream (a 10-hour meeting has ~20 000). */
const MAX_LINES = 100_000;

export interface NotesSinkOptions {
  info: StreamInfo;
  config: IntelligenceConfig;
  summarizer: Summarizer;
  store: Store;
  metrics: LlmMetrics;
  /** The live feed. */
  publish(message: LiveSummaryMessage): void;
  /** The final summary is stored: announce it (`summary.ready`). */
  announce(record: SummaryRecord): void;
  /** The stream's recording directory, where summary.md goes (none: no file). */
  recordingDir?: string;
  /** Resolves once the recorder has written its last files (manifest.json included). */
  recordingClosed?: () => Promise<void>;
  /**
   * The whole meeting as stored, for the final summary (read once the store has everything, see
   * `storeFlushed`): covers what an earlier owner of the stream received (cluster takeover) and is
   * where a transcript track other than Zoom's is chosen. Absent, or failing: the lines this sink saw.
   */
  storedLines?: () => Promise<PromptLine[]>;
  /** Resolves once the stream's store writer has flushed. */
  storeFlushed?: () => Promise<void>;
  /** Told once close() has finished (summary written, or given up). */
  onFinished?: () => void;
}

export class NotesSink implements StreamSink {
  readonly #o: NotesSinkOptions;
  readonly #lines: PromptLine[] = [];
  /** Lines already in the notes. */
  #noted = 0;
  readonly #record: SummaryRecord;
  #timer?: NodeJS.Timeout;
  #running?: Promise<void>;
  #closing?: Promise<void>;
  #report: (err: unknown) => void = () => {};
  #resumed?: Promise<void>;

  constructor(o: NotesSinkOptions) {
    this.#o = o;
    this.#record = { rtmsStreamId: o.info.rtmsStreamId, notes: '', provider: o.config.provider, model: o.config.model, inputTokens: 0, outputTokens: 0, updatedAt: Date.now() };
    // A stream taken over from another process continues its notes (and their token count).
    if (o.info.resume) this.#resumed = this.#resume();
    const every = o.config.notesEveryMinutes * 60_000;
    if (every > 0) {
      this.#timer = setInterval(() => this.#tick(), every);
      this.#timer.unref();
    }
  }

  async #resume(): Promise<void> {
    const before = await this.#o.store.summary(this.#o.info.rtmsStreamId).catch(() => undefined);
    if (!before || before.summary) return;
    this.#record.notes = before.notes;
    this.#record.inputTokens += before.inputTokens;
    this.#record.outputTokens += before.outputTokens;
  }

  setErrorReporter(report: (err: unknown) => void): void {
    this.#report = report;
  }

  /** Lines received so far (transcript and chat). */
  get lines(): number {
    return this.#lines.length;
  }

  #push(line: PromptLine): void {
    if (this.#closing) return;
    if (this.#lines.length >= MAX_LINES) return this.#o.metrics.dropped();
    this.#lines.push(line);
  }

  /** Zoom's transcript (the pipeline's transcript frames); the final summary reads `config.source` from the store. */
  onTranscript(t: TranscriptFrame): void {
    if (t.text.trim()) this.#push({ at: t.timestamp, speaker: t.userName || `user ${t.userId}`, text: t.text });
  }

  onChat(m: ChatMessage): void {
    // New messages only: edits, deletes and reactions would repeat or retract what the notes already hold.
    if (!this.#o.config.includeChat || (m.operation ?? 'new') !== 'new' || !m.text?.trim()) return;
    this.#push({ at: m.timestamp, speaker: m.userName || `user ${m.userId}`, text: m.text, chat: true });
  }

  #format(lines: readonly PromptLine[]): string[] {
    // Chat and transcript arrive on separate channels: put them in time order.
    return [...lines].sort((a, b) => a.at - b.at).map((l) => formatLine(l, this.#o.info.startedAt));
  }

  #tick(): void {
    if (this.#running || this.#closing || this.#noted >= this.#lines.length) return;
    this.#running = this.#updateNotes().finally(() => (this.#running = undefined));
  }

  #add(usage: TokenUsage): void {
    this.#record.inputTokens += usage.inputTokens;
    this.#record.outputTokens += usage.outputTokens;
    const usd = this.#o.metrics.cost(this.#record);
    if (usd !== undefined) this.#record.costUsd = usd;
  }

  async #updateNotes(): Promise<void> {
    await this.#resumed;
    const end = this.#lines.length;
    try {
      const r = await this.#o.summarizer.updateNotes(this.#record.notes, this.#format(this.#lines.slice(this.#noted, end)));
      this.#noted = end;
      this.#add(r.usage);
      this.#record.notes = r.notes;
      this.#record.notesUpdatedAt = this.#record.updatedAt = Date.now();
      await this.#o.store.saveSummary({ ...this.#record });
      this.#publish('notes');
    } catch (err) {
      // The next period tries again with these lines and the new ones.
      this.#report(err);
    }
  }

  #publish(kind: 'notes' | 'final'): void {
    const r = this.#record;
    this.#o.publish({ type: 'summary', streamId: r.rtmsStreamId, kind, notes: r.notes, ...(r.summary ? { summary: r.summary } : {}), model: r.model, updatedAt: r.updatedAt, timestamp: Date.now() });
  }

  close(): Promise<void> {
    this.#closing ??= this.#finish().finally(() => this.#o.onFinished?.());
    return this.#closing;
  }

  async #finish(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
    await this.#resumed;
    const lines = await this.#allLines();
    // Nothing was said: nothing to summarise, nothing sent.
    if (lines.length === 0) return;
    try {
      const r = await this.#o.summarizer.summarize(this.#format(lines));
      this.#add(r.usage);
      this.#record.summary = r.summary;
      this.#record.summaryUpdatedAt = this.#record.updatedAt = Date.now();
      await this.#o.store.saveSummary({ ...this.#record });
      this.#publish('final');
      this.#o.announce({ ...this.#record });
    } catch (err) {
      this.#report(err);
      return;
    }
    if (this.#o.recordingDir) await this.#writeFile(this.#o.recordingDir).catch((err: unknown) => this.#report(err));
  }

  /** The stored meeting when it is at least what this sink saw (a store outage loses nothing here), else the lines seen. */
  async #allLines(): Promise<PromptLine[]> {
    if (!this.#o.storedLines) return this.#lines;
    try {
      await this.#o.storeFlushed?.();
      const stored = await this.#o.storedLines();
      // Another track than Zoom's (what this sink saw): the stored one whenever it has anything.
      if (this.#o.config.source !== 'zoom') return stored.length ? stored : this.#lines;
      return stored.length >= this.#lines.length ? stored : this.#lines;
    } catch (err) {
      this.#report(err);
      return this.#lines;
    }
  }

  /** summary.md, listed in manifest.json (read back and replaced whole, as the recorder writes it). */
  async #writeFile(dir: string): Promise<void> {
    await this.#o.recordingClosed?.();
    const info = this.#o.info;
    await writeFile(join(dir, 'summary.md'), summaryMarkdown({ rtmsStreamId: info.rtmsStreamId, meetingUuid: info.meetingUuid, model: this.#record.model, summary: this.#record.summary, notes: this.#record.notes, updatedAt: this.#record.updatedAt }));
    const path = join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(path, 'utf8')) as { files?: { path: string }[] };
    manifest.files ??= [];
    if (!manifest.files.some((f) => f.path === 'summary.md')) manifest.files.push({ path: 'summary.md', kind: 'summary', user_id: null, duration_ms: 0 } as { path: string });
    await writeFile(`${path}.summary.tmp`, JSON.stringify(manifest, null, 2));
    await rename(`${path}.summary.tmp`, path);
  }
}
