/**
 * Versioned schema migrations, one list per database. A migration is applied once, in a
 * transaction together with its row in `schema_migrations`; never edit one that has shipped —
 * append a new version instead.
 */

export interface Migration {
  version: number;
  name: string;
  /** SQL statements, run in order inside one transaction. */
  up: string[];
}

export const SQLITE_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    up: [
      `CREATE TABLE meetings (
        meeting_uuid TEXT PRIMARY KEY,
        product TEXT NOT NULL,
        created_at INTEGER NOT NULL
      )`,
      `CREATE TABLE streams (
        rtms_stream_id TEXT PRIMARY KEY,
        meeting_uuid TEXT NOT NULL REFERENCES meetings(meeting_uuid),
        product TEXT NOT NULL,
        operator_id TEXT,
        state TEXT NOT NULL DEFAULT 'starting',
        started_at INTEGER NOT NULL,
        stopped_at INTEGER,
        stop_reason INTEGER,
        close_reason TEXT,
        stats TEXT NOT NULL DEFAULT '{}'
      )`,
      `CREATE INDEX streams_started ON streams(started_at DESC)`,
      `CREATE INDEX streams_state ON streams(state, started_at DESC)`,
      `CREATE INDEX streams_meeting ON streams(meeting_uuid)`,
      `CREATE TABLE participants (
        rtms_stream_id TEXT NOT NULL REFERENCES streams(rtms_stream_id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        user_name TEXT NOT NULL DEFAULT '',
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        PRIMARY KEY (rtms_stream_id, user_id)
      )`,
      `CREATE TABLE transcript_segments (
        id INTEGER PRIMARY KEY,
        rtms_stream_id TEXT NOT NULL REFERENCES streams(rtms_stream_id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        user_name TEXT NOT NULL,
        text TEXT NOT NULL,
        ts INTEGER NOT NULL,
        start_time INTEGER,
        end_time INTEGER,
        language TEXT
      )`,
      `CREATE INDEX transcript_stream_ts ON transcript_segments(rtms_stream_id, ts, id)`,
      `CREATE TABLE chat_messages (
        id INTEGER PRIMARY KEY,
        rtms_stream_id TEXT NOT NULL REFERENCES streams(rtms_stream_id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        user_name TEXT NOT NULL,
        text TEXT NOT NULL,
        ts INTEGER NOT NULL
      )`,
      `CREATE INDEX chat_stream_ts ON chat_messages(rtms_stream_id, ts, id)`,
      `CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        rtms_stream_id TEXT NOT NULL REFERENCES streams(rtms_stream_id) ON DELETE CASCADE,
        type TEXT NOT NULL,
        ts INTEGER NOT NULL,
        user_id TEXT,
        user_name TEXT,
        data TEXT
      )`,
      `CREATE INDEX events_stream_ts ON events(rtms_stream_id, ts, id)`,
      `CREATE TABLE recording_files (
        rtms_stream_id TEXT NOT NULL REFERENCES streams(rtms_stream_id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        duration_ms INTEGER,
        PRIMARY KEY (rtms_stream_id, path)
      )`,
      // One index over both kinds of text, so that ranking uses one corpus. Row ids encode the
      // source: 2*id for a transcript segment, 2*id+1 for a chat message.
      `CREATE VIRTUAL TABLE search_index USING fts5(
        text,
        rtms_stream_id UNINDEXED,
        user_id UNINDEXED,
        user_name UNINDEXED,
        ts UNINDEXED,
        tokenize = 'unicode61 remove_diacritics 2'
      )`,
      `CREATE TRIGGER transcript_ai AFTER INSERT ON transcript_segments BEGIN
        INSERT INTO search_index(rowid, text, rtms_stream_id, user_id, user_name, ts)
        VALUES (new.id * 2, new.text, new.rtms_stream_id, new.user_id, new.user_name, new.ts);
      END`,
      `CREATE TRIGGER transcript_ad AFTER DELETE ON transcript_segments BEGIN
        DELETE FROM search_index WHERE rowid = old.id * 2;
      END`,
      `CREATE TRIGGER chat_ai AFTER INSERT ON chat_messages BEGIN
        INSERT INTO search_index(rowid, text, rtms_stream_id, user_id, user_name, ts)
        VALUES (new.id * 2 + 1, new.text, new.rtms_stream_id, new.user_id, new.user_name, new.ts);
      END`,
      `CREATE TRIGGER chat_ad AFTER DELETE ON chat_messages BEGIN
        DELETE FROM search_index WHERE rowid = old.id * 2 + 1;
      END`,
    ],
  },
  {
    version: 2,
    name: 'chat v2, transcript attribute and target language, chat audit',
    up: [
      // Chat v2 (July 2026): a message has an id that edits, deletes and reactions refer to.
      'ALTER TABLE chat_messages ADD COLUMN message_id TEXT',
      'ALTER TABLE chat_messages ADD COLUMN parent_message_id TEXT',
      // Audience, receiver and files as JSON: read back whole, never queried by field.
      'ALTER TABLE chat_messages ADD COLUMN extra TEXT',
      'ALTER TABLE chat_messages ADD COLUMN reactions TEXT',
      'ALTER TABLE chat_messages ADD COLUMN edited_at INTEGER',
      'CREATE UNIQUE INDEX chat_message_id ON chat_messages(rtms_stream_id, message_id) WHERE message_id IS NOT NULL',
      // An edit changes what search finds: the index follows the text.
      `CREATE TRIGGER chat_au AFTER UPDATE OF text, user_name ON chat_messages BEGIN
        DELETE FROM search_index WHERE rowid = old.id * 2 + 1;
        INSERT INTO search_index(rowid, text, rtms_stream_id, user_id, user_name, ts)
        VALUES (new.id * 2 + 1, new.text, new.rtms_stream_id, new.user_id, new.user_name, new.ts);
      END`,
      'ALTER TABLE transcript_segments ADD COLUMN attribute TEXT',
      'ALTER TABLE transcript_segments ADD COLUMN target_language INTEGER',
      // Only written when the operator turns the audit on (OPENRTMS_CHAT_AUDIT=1).
      `CREATE TABLE chat_audit (
        id INTEGER PRIMARY KEY,
        rtms_stream_id TEXT NOT NULL REFERENCES streams(rtms_stream_id) ON DELETE CASCADE,
        message_id TEXT NOT NULL,
        operation TEXT NOT NULL,
        user_id TEXT,
        user_name TEXT,
        text TEXT,
        previous_text TEXT,
        ts INTEGER NOT NULL
      )`,
      'CREATE INDEX chat_audit_stream ON chat_audit(rtms_stream_id, ts, id)',
    ],
  },
  {
    version: 3,
    name: 'transcript tracks: source and word timings',
    up: [
      // Speech-to-text providers add tracks beside Zoom's own; rows from before are Zoom's.
      "ALTER TABLE transcript_segments ADD COLUMN source TEXT NOT NULL DEFAULT 'zoom'",
      // [{text, startTime, endTime, confidence?}] as JSON: read back whole, never queried by field.
      'ALTER TABLE transcript_segments ADD COLUMN words TEXT',
      'CREATE INDEX transcript_stream_source ON transcript_segments(rtms_stream_id, source, ts, id)',
    ],
  },
  {
    version: 4,
    name: 'LLM notes and summaries',
    up: [
      `CREATE TABLE stream_summaries (
        rtms_stream_id TEXT PRIMARY KEY,
        notes TEXT NOT NULL DEFAULT '',
        notes_updated_at INTEGER,
        summary TEXT,
        summary_updated_at INTEGER,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL,
        updated_at INTEGER NOT NULL
      )`,
    ],
  },
  {
    version: 5,
    name: 'idempotent rows (natural keys), maintenance leases',
    up: [
      // A cluster takeover replays a stream's last batches through a new sink (batch ids are per sink):
      // each row is recognised by its natural key instead (see store/natural-keys.ts). Old rows keep NULL.
      'ALTER TABLE transcript_segments ADD COLUMN dedupe_key TEXT',
      'CREATE UNIQUE INDEX transcript_dedupe ON transcript_segments(rtms_stream_id, dedupe_key) WHERE dedupe_key IS NOT NULL',
      'ALTER TABLE chat_messages ADD COLUMN dedupe_key TEXT',
      'CREATE UNIQUE INDEX chat_dedupe ON chat_messages(rtms_stream_id, dedupe_key) WHERE dedupe_key IS NOT NULL',
      'ALTER TABLE events ADD COLUMN dedupe_key TEXT',
      'CREATE UNIQUE INDEX events_dedupe ON events(rtms_stream_id, dedupe_key) WHERE dedupe_key IS NOT NULL',
      'DELETE FROM chat_audit WHERE id NOT IN (SELECT MIN(id) FROM chat_audit GROUP BY rtms_stream_id, message_id, operation, ts)',
      'CREATE UNIQUE INDEX chat_audit_once ON chat_audit(rtms_stream_id, message_id, operation, ts)',
      // One holder at a time among the processes sharing the store (the daily retention sweep).
      `CREATE TABLE maintenance_leases (
        name TEXT PRIMARY KEY,
        holder TEXT,
        expires_at INTEGER NOT NULL,
        last_done INTEGER
      )`,
    ],
  },
];

export const POSTGRES_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    up: [
      `CREATE TABLE meetings (
        meeting_uuid TEXT PRIMARY KEY,
        product TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE streams (
        rtms_stream_id TEXT PRIMARY KEY,
        meeting_uuid TEXT NOT NULL REFERENCES meetings(meeting_uuid),
        product TEXT NOT NULL,
        operator_id TEXT,
        state TEXT NOT NULL DEFAULT 'starting',
        started_at BIGINT NOT NULL,
        stopped_at BIGINT,
        stop_reason INTEGER,
        close_reason TEXT,
        stats JSONB NOT NULL DEFAULT '{}'::jsonb
      )`,
      `CREATE INDEX streams_started ON streams(started_at DESC)`,
      `CREATE INDEX streams_state ON streams(state, started_at DESC)`,
      `CREATE INDEX streams_meeting ON streams(meeting_uuid)`,
      `CREATE TABLE participants (
        rtms_stream_id TEXT NOT NULL REFERENCES streams(rtms_stream_id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        user_name TEXT NOT NULL DEFAULT '',
        first_seen BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        PRIMARY KEY (rtms_stream_id, user_id)
      )`,
      `CREATE TABLE transcript_segments (
        id BIGSERIAL PRIMARY KEY,
        rtms_stream_id TEXT NOT NULL REFERENCES streams(rtms_stream_id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        user_name TEXT NOT NULL,
        text TEXT NOT NULL,
        ts BIGINT NOT NULL,
        start_time BIGINT,
        end_time BIGINT,
        language TEXT,
        tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
      )`,
      `CREATE INDEX transcript_stream_ts ON transcript_segments(rtms_stream_id, ts, id)`,
      `CREATE INDEX transcript_tsv ON transcript_segments USING GIN (tsv)`,
      `CREATE TABLE chat_messages (
        id BIGSERIAL PRIMARY KEY,
        rtms_stream_id TEXT NOT NULL REFERENCES streams(rtms_stream_id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        user_name TEXT NOT NULL,
        text TEXT NOT NULL,
        ts BIGINT NOT NULL,
        tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
      )`,
      `CREATE INDEX chat_stream_ts ON chat_messages(rtms_stream_id, ts, id)`,
      `CREATE INDEX chat_tsv ON chat_messages USING GIN (tsv)`,
      `CREATE TABLE events (
        id BIGSERIAL PRIMARY KEY,
        rtms_stream_id TEXT NOT NULL REFERENCES streams(rtms_stream_id) ON DELETE CASCADE,
        type TEXT NOT NULL,
        ts BIGINT NOT NULL,
        user_id TEXT,
        user_name TEXT,
        data JSONB
      )`,
      `CREATE INDEX events_stream_ts ON events(rtms_stream_id, ts, id)`,
      `CREATE TABLE recording_files (
        rtms_stream_id TEXT NOT NULL REFERENCES streams(rtms_stream_id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        bytes BIGINT NOT NULL,
        duration_ms BIGINT,
        PRIMARY KEY (rtms_stream_id, path)
      )`,
    ],
  },
  {
    version: 2,
    name: 'idempotent batches',
    // The last StoreSink batch applied per stream: a batch retried after its commit's answer was lost
    // (connection reset between COMMIT and the reply) is recognised and not applied twice.
    up: ['ALTER TABLE streams ADD COLUMN last_batch_id TEXT'],
  },
  {
    version: 3,
    name: 'chat v2, transcript attribute and target language, chat audit',
    up: [
      'ALTER TABLE chat_messages ADD COLUMN message_id TEXT',
      'ALTER TABLE chat_messages ADD COLUMN parent_message_id TEXT',
      'ALTER TABLE chat_messages ADD COLUMN extra JSONB',
      'ALTER TABLE chat_messages ADD COLUMN reactions JSONB',
      'ALTER TABLE chat_messages ADD COLUMN edited_at BIGINT',
      // tsv is a generated column: an edit re-indexes the message by itself.
      'CREATE UNIQUE INDEX chat_message_id ON chat_messages(rtms_stream_id, message_id) WHERE message_id IS NOT NULL',
      'ALTER TABLE transcript_segments ADD COLUMN attribute TEXT',
      'ALTER TABLE transcript_segments ADD COLUMN target_language INTEGER',
      `CREATE TABLE chat_audit (
        id BIGSERIAL PRIMARY KEY,
        rtms_stream_id TEXT NOT NULL REFERENCES streams(rtms_stream_id) ON DELETE CASCADE,
        message_id TEXT NOT NULL,
        operation TEXT NOT NULL,
        user_id TEXT,
        user_name TEXT,
        text TEXT,
        previous_text TEXT,
        ts BIGINT NOT NULL
      )`,
      'CREATE INDEX chat_audit_stream ON chat_audit(rtms_stream_id, ts, id)',
    ],
  },
  {
    version: 4,
    name: 'transcript tracks: source and word timings',
    up: [
      "ALTER TABLE transcript_segments ADD COLUMN source TEXT NOT NULL DEFAULT 'zoom'",
      'ALTER TABLE transcript_segments ADD COLUMN words JSONB',
      'CREATE INDEX transcript_stream_source ON transcript_segments(rtms_stream_id, source, ts, id)',
    ],
  },
  {
    version: 5,
    name: 'LLM notes and summaries',
    up: [
      `CREATE TABLE stream_summaries (
        rtms_stream_id TEXT PRIMARY KEY,
        notes TEXT NOT NULL DEFAULT '',
        notes_updated_at BIGINT,
        summary JSONB,
        summary_updated_at BIGINT,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        input_tokens BIGINT NOT NULL DEFAULT 0,
        output_tokens BIGINT NOT NULL DEFAULT 0,
        cost_usd DOUBLE PRECISION,
        updated_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 6,
    name: 'idempotent rows (natural keys), maintenance leases',
    up: [
      'ALTER TABLE transcript_segments ADD COLUMN dedupe_key TEXT',
      'CREATE UNIQUE INDEX transcript_dedupe ON transcript_segments(rtms_stream_id, dedupe_key) WHERE dedupe_key IS NOT NULL',
      'ALTER TABLE chat_messages ADD COLUMN dedupe_key TEXT',
      'CREATE UNIQUE INDEX chat_dedupe ON chat_messages(rtms_stream_id, dedupe_key) WHERE dedupe_key IS NOT NULL',
      'ALTER TABLE events ADD COLUMN dedupe_key TEXT',
      'CREATE UNIQUE INDEX events_dedupe ON events(rtms_stream_id, dedupe_key) WHERE dedupe_key IS NOT NULL',
      'DELETE FROM chat_audit a USING chat_audit b WHERE a.id > b.id AND a.rtms_stream_id = b.rtms_stream_id AND a.message_id = b.message_id AND a.operation = b.operation AND a.ts = b.ts',
      'CREATE UNIQUE INDEX chat_audit_once ON chat_audit(rtms_stream_id, message_id, operation, ts)',
      `CREATE TABLE maintenance_leases (
        name TEXT PRIMARY KEY,
        holder TEXT,
        expires_at BIGINT NOT NULL,
        last_done BIGINT
      )`,
    ],
  },
];
