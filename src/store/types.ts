/**
 * Public types of the storage layer: the {@link Store} contract shared by the SQLite (default) and
 * PostgreSQL implementations, and the records it reads and writes.
 *
 * Conventions: every timestamp is milliseconds since the epoch (a JS number); user ids are
 * normalised to strings (Zoom sends numbers for meetings and strings for some products); every
 * method is async so that both implementations have the same shape.
 */
import type { Product } from '../protocol/index.js';
import type { TimelineEvent } from '../pipeline/types.js';
import type { MeetingSummary } from '../intelligence/types.js';
import type { StreamRows } from './deletion.js';

export type { StreamRows } from './deletion.js';

/** Lifecycle of a stream row. `stopped` is final: later state updates do not revive it. */
export type StreamState = 'starting' | 'active' | 'paused' | 'reconnecting' | 'stopped';

/** Free-form counters and figures about a stream (frames per kind, bytes, drops...). */
export type StreamStats = Record<string, number>;

export interface MeetingRecord {
  /** meeting_uuid, session_id or engagement_id. */
  meetingUuid: string;
  product: Product;
  createdAt: number;
}

/** What is known about a stream when it starts (the pipeline's StreamInfo has this shape). */
export interface StreamStart {
  rtmsStreamId: string;
  meetingUuid: string;
  product: Product;
  operatorId?: string;
  startedAt: number;
}

/** Fields of an `upsertStream` call: a StreamStart plus an optional state. */
export interface StreamUpsert extends StreamStart {
  /** Default `starting` for a new row; an existing row keeps its state unless given. */
  state?: StreamState;
}

/** How a stream ended. */
export interface StreamStop {
  stoppedAt: number;
  /** Zoom's RTMS_STOP_REASON, when it gave one. */
  stopReason?: number;
  /** Why our client closed (`left`, `stream-terminated`, `kicked`, ...). */
  closeReason?: string;
}

export interface StreamRecord extends StreamStart {
  state: StreamState;
  stoppedAt?: number;
  stopReason?: number;
  closeReason?: string;
  stats: StreamStats;
}

export interface ParticipantRecord {
  userId: string;
  userName: string;
  firstSeen: number;
  lastSeen: number;
}

/** A stream with its participants (what `GET /api/streams/:id` returns). */
export interface StreamDetail extends StreamRecord {
  participants: ParticipantRecord[];
}

/** Sightings of a participant; the store keeps the earliest and latest per user and stream. */
export interface ParticipantSeen {
  userId: number | string;
  /** A non-empty name replaces the stored one; an empty one never does. */
  userName?: string;
  firstSeen: number;
  /** Default: firstSeen. */
  lastSeen?: number;
}

/** One word of a transcript segment (speech-to-text tracks), ms since the epoch. */
export interface TranscriptWord {
  text: string;
  startTime: number;
  endTime: number;
  confidence?: number;
}

export interface TranscriptSegment {
  /** The track: `zoom` (Zoom's own transcript) or a `transcription` entry's name (e.g. `deepgram`). */
  source: string;
  userId: string;
  userName: string;
  text: string;
  timestamp: number;
  startTime?: number;
  endTime?: number;
  language?: string;
  /** `attribute` of the transcript content, as sent (any JSON value). */
  attribute?: unknown;
  /** Translation target granted for the transcript (`target_language`). */
  targetLanguage?: number;
  /** Word timings, when the provider gave them. */
  words?: TranscriptWord[];
}

/** A segment to store; user ids and languages may be numbers, as Zoom sends them. `source` defaults to `zoom`. */
export interface NewTranscriptSegment extends Omit<TranscriptSegment, 'userId' | 'language' | 'source'> {
  userId: number | string;
  language?: number | string;
  source?: string;
}

/** Options of {@link Store.transcript}. */
export interface TranscriptOptions {
  /** Only this track (`zoom` or a provider's name); default every track. */
  source?: string;
}

export interface ChatReactionRecord {
  emoji: string;
  count: number;
  users: { userId: string; userName: string }[];
}

/**
 * A chat message in its final state: edits applied (`text` is the last one, `editedAt` when), deleted
 * messages absent, reactions per message. Plain-text chat has only the first four fields.
 */
export interface ChatRecord {
  userId: string;
  userName: string;
  text: string;
  timestamp: number;
  messageId?: string;
  parentMessageId?: string;
  /** Audience (`type`: 1 everyone, 2 individual, 3 chat group, 4 hosts and panelists, 5…), as sent. */
  chatSession?: Record<string, unknown>;
  receiver?: { userId: string; userName: string };
  files?: Record<string, unknown>[];
  reactions?: ChatReactionRecord[];
  editedAt?: number;
}

/**
 * A chat message or operation to apply, in order: `new` (default) adds, `update` replaces the text of
 * `messageId` (adding it when unknown), `delete` removes it, `reaction_add`/`reaction_remove` change its
 * reactions. Operations without a `messageId`, other than `new`, are ignored.
 */
export interface NewChatMessage {
  userId: number | string;
  userName: string;
  text: string;
  timestamp: number;
  operation?: 'new' | 'update' | 'delete' | 'reaction_add' | 'reaction_remove' | 'unknown';
  messageId?: string;
  parentMessageId?: string;
  chatSession?: Record<string, unknown>;
  receiver?: { userId: number | string; userName: string };
  files?: Record<string, unknown>[];
  deleteFileIds?: string[];
  emoji?: string;
  /** Keep an audit row (chat_audit) of this edit or delete, with the text before. */
  audit?: boolean;
}

/** One audited chat edit or delete. */
export interface ChatAuditRecord {
  messageId: string;
  operation: 'update' | 'delete';
  userId?: string;
  userName?: string;
  /** The text after an edit. */
  text?: string;
  /** The text before the edit or delete (absent when the store never had the message). */
  previousText?: string;
  timestamp: number;
}

/** A stored timeline event: the pipeline's TimelineEvent with a normalised user id. */
export interface EventRecord extends Omit<TimelineEvent, 'userId'> {
  userId?: string;
}

/** A file the recorder wrote, relative to `<data-dir>/recordings/<stream id>/`. */
export interface RecordingFile {
  /** Relative path with forward slashes, e.g. `audio/mixed.wav`. Unique per stream. */
  path: string;
  /** e.g. `audio`, `video`, `share`, `transcript`, `chat`, `events`, `manifest`, `frame`. */
  kind: string;
  bytes: number;
  durationMs?: number;
}

/** A stream's LLM notes and final summary (one row per stream, replaced as they are updated). */
export interface SummaryRecord {
  rtmsStreamId: string;
  /** Rolling live notes (Markdown bullets), '' before the first update. */
  notes: string;
  notesUpdatedAt?: number;
  /** The final summary, once the stream has ended. */
  summary?: MeetingSummary;
  summaryUpdatedAt?: number;
  provider: string;
  model: string;
  /** Totals over every request made for this stream. */
  inputTokens: number;
  outputTokens: number;
  /** USD, when the config gives prices. */
  costUsd?: number;
  updatedAt: number;
}

/** Everything one flush of a {@link StoreSink} writes, in a single transaction. */
export interface WriteBatch {
  /** The stream the rows belong to; its meeting and stream rows are created if missing. */
  stream: StreamStart;
  /**
   * Makes the write idempotent: a batch written again with the same id (a retry after a connection
   * broke between the commit and its answer) is not applied twice. A store remembers the last batch
   * id per stream, so retry a failed batch unchanged and before any newer one (StoreSink does).
   * SQLite commits in-process, so its answer is never lost; it ignores the id.
   */
  batchId?: string;
  transcript?: NewTranscriptSegment[];
  chat?: NewChatMessage[];
  events?: TimelineEvent[];
  participants?: ParticipantSeen[];
  /** Added to the stream's numeric stats (missing keys start at 0). */
  statsDelta?: StreamStats;
  /** A state change; `stopped` also needs `stop`. Ignored once the stream is stopped. */
  state?: StreamState;
  stop?: StreamStop;
}

export interface ListStreamsOptions {
  state?: StreamState;
  /** Default 50, at most 1000. */
  limit?: number;
  offset?: number;
}

export interface SearchOptions {
  /** Only hits from this stream. */
  streamId?: string;
  /** Default 20, at most 500. */
  limit?: number;
}

/** One full-text search hit, best first. */
export interface SearchHit {
  rtmsStreamId: string;
  kind: 'transcript' | 'chat';
  /** The transcript track of a transcript hit (`zoom` or a provider's name). */
  source?: string;
  userId: string;
  /** The speaker's (or chat sender's) name. */
  speaker: string;
  /** The whole stored text. */
  text: string;
  timestamp: number;
  /**
   * An excerpt around the match, HTML-escaped, with matched terms wrapped in `<mark>…</mark>`
   * (safe to insert as HTML; see `snippetToText` / `snippetToAnsi` for terminals).
   */
  snippet: string;
  /** Relevance; higher is better. Comparable within one result list only. */
  score: number;
}

/**
 * Persistent storage of streams and everything said and done in them.
 *
 * Implementations: `SqliteStore` (embedded, default, `<data-dir>/openrtms.db`) and `PostgresStore`
 * (`DATABASE_URL`). Obtain one with `openStore()`, which also applies migrations. All methods
 * reject with a `StoreError` (`STORE_CLOSED`, `STORE_UNAVAILABLE`, ...) on failure; `close()` is
 * idempotent and every other call after it rejects with `STORE_CLOSED`.
 */
export interface Store {
  /** Which implementation this is. */
  readonly kind: 'sqlite' | 'postgres';
  /** Where the data lives (file path, or the database URL without its password). */
  readonly location: string;

  /** Applies pending migrations, each in its own transaction. Idempotent; returns how many ran. */
  migrate(): Promise<number>;
  /** Highest applied migration version (0 for an empty database). */
  schemaVersion(): Promise<number>;

  /** Creates the stream (and its meeting) or updates its product, operator and, if given, state. */
  upsertStream(stream: StreamUpsert): Promise<void>;
  /** Sets the state of a stream that is not stopped yet. */
  setStreamState(rtmsStreamId: string, state: Exclude<StreamState, 'stopped'>): Promise<void>;
  /** Marks the stream stopped (final). A second call keeps the first stop's facts. */
  markStopped(rtmsStreamId: string, stop: StreamStop): Promise<void>;
  /** Adds to the stream's numeric stats. */
  addStats(rtmsStreamId: string, delta: StreamStats): Promise<void>;
  /** Records recording files; a path already known for the stream is updated. */
  upsertFiles(rtmsStreamId: string, files: RecordingFile[]): Promise<void>;
  /** Writes a whole batch in one transaction (what StoreSink uses). */
  write(batch: WriteBatch): Promise<void>;

  /** Streams, most recently started first. */
  listStreams(options?: ListStreamsOptions): Promise<StreamRecord[]>;
  /** One stream with its participants and stats, or undefined. */
  getStream(rtmsStreamId: string): Promise<StreamDetail | undefined>;
  getMeeting(meetingUuid: string): Promise<MeetingRecord | undefined>;
  /** Transcript segments in time order: every track, or the one `options.source` names. */
  transcript(rtmsStreamId: string, options?: TranscriptOptions): Promise<TranscriptSegment[]>;
  /** The transcript tracks a stream has (`zoom` first when present, then by name). */
  transcriptSources(rtmsStreamId: string): Promise<string[]>;
  /** Chat messages in time order. */
  chat(rtmsStreamId: string): Promise<ChatRecord[]>;
  /** Edits and deletes kept for audit (only written when the operator turned the audit on), in time order. */
  chatAudit(rtmsStreamId: string): Promise<ChatAuditRecord[]>;
  /** Timeline events in time order. */
  events(rtmsStreamId: string): Promise<EventRecord[]>;
  /** Recording files, by path. */
  files(rtmsStreamId: string): Promise<RecordingFile[]>;
  /**
   * Full-text search over transcript segments and chat messages. The query is user input in
   * web-search syntax: words (all must match), `"a phrase"`, `or`, `-excluded`. Any other
   * punctuation is ignored, never an error. Matching is case- and (SQLite) accent-insensitive,
   * without stemming.
   */
  search(query: string, options?: SearchOptions): Promise<SearchHit[]>;
  /** Creates or replaces the stream's notes and summary. */
  saveSummary(record: SummaryRecord): Promise<void>;
  /** The stream's notes and summary, or undefined when no LLM wrote any. */
  summary(rtmsStreamId: string): Promise<SummaryRecord | undefined>;

  /**
   * What {@link Store.deleteStream} would remove: rows per table (store/deletion.ts lists them);
   * undefined when the store has nothing of this stream.
   */
  streamRows(rtmsStreamId: string): Promise<StreamRows | undefined>;
  /**
   * Deletes the stream and every row about it, in one transaction: transcript (and its search-index
   * entries), chat, chat audit, events, participants, recording files, the stream row, and its meeting
   * row when no other stream refers to it. Returns what was removed; undefined when there was nothing.
   */
  deleteStream(rtmsStreamId: string): Promise<StreamRows | undefined>;
  /**
   * Takes the named lease for `holder` until `now + ttlMs`, unless another holder has it and it has
   * not expired (processes sharing the store: one runs the retention sweep). `lastDone` is when a
   * holder last reported the work done ({@link Store.releaseLease}).
   */
  acquireLease(name: string, holder: string, ttlMs: number, now?: number): Promise<{ acquired: boolean; lastDone?: number }>;
  /** Gives the lease back (if `holder` has it), recording `doneAt` as when the work was last done. */
  releaseLease(name: string, holder: string, doneAt?: number): Promise<void>;

  /** Releases the database. Idempotent. */
  close(): Promise<void>;
}
