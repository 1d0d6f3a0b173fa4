/**
 * The Store contract: one suite, run against every implementation (sqlite.test.ts,
 * postgres.test.ts). A factory that cannot reach its database returns a skip reason instead.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { StoreError } from '../../src/errors.js';
import type { Migration } from '../../src/store/migrations.js';
import { StoreSink } from '../../src/store/sink.js';
import type { Store, StreamStart, WriteBatch } from '../../src/store/types.js';
import type { StreamInfo, TimelineEvent } from '../../src/pipeline/types.js';

export interface StoreFactory {
  /** A fresh, migrated store over an empty database. */
  create(): Promise<Store>;
  /** A second, not yet migrated store over the same database as `store`. */
  reopen(store: Store, migrations?: Migration[]): Promise<Store>;
  /** The shipped migrations of this implementation. */
  migrations: Migration[];
  /** Drops every database created. */
  cleanup(): Promise<void>;
}

const stream = (id: string, startedAt = 1_700_000_000_000, meetingUuid = `meeting-${id}`): StreamStart => ({
  rtmsStreamId: id,
  meetingUuid,
  product: 'meeting',
  startedAt,
});

const T0 = 1_700_000_000_000;

/** A store whose writes fail while `failing` is true (everything else passes through). */
function flaky(inner: Store): Store & { failing: boolean; writes: WriteBatch[] } {
  const writes: WriteBatch[] = [];
  const wrapper = Object.create(inner) as Store & { failing: boolean; writes: WriteBatch[] };
  wrapper.failing = false;
  wrapper.writes = writes;
  wrapper.write = async (batch: WriteBatch) => {
    if (wrapper.failing) throw new StoreError('STORE_UNAVAILABLE', 'simulated outage');
    writes.push(structuredClone(batch));
    return inner.write(batch);
  };
  // Methods with private fields must run on the real instance.
  for (const m of ['transcript', 'chat', 'events', 'getStream', 'search', 'listStreams'] as const) {
    (wrapper as unknown as Record<string, unknown>)[m] = (inner[m] as (...a: unknown[]) => unknown).bind(inner);
  }
  return wrapper;
}

const until = async (cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const transcriptFrame = (i: number, text = `segment number ${i}`) => ({
  userId: 16778240,
  userName: 'Ann',
  text,
  timestamp: T0 + i,
  receivedAt: T0 + i,
});

export function storeContract(name: string, makeFactory: () => Promise<StoreFactory | string>): void {
  describe(`Store contract: ${name}`, () => {
    let factory: StoreFactory | undefined;
    let skipReason = '';
    let store: Store;
    before(async () => {
      const f = await makeFactory();
      if (typeof f === 'string') skipReason = f;
      else factory = f;
    });
    after(async () => {
      await factory?.cleanup();
    });
    /** Each test gets a fresh database, or skips with the factory's reason. */
    const test = (title: string, fn: (t: TestContext) => Promise<void>) =>
      it(title, async (t) => {
        if (!factory) return t.skip(skipReason);
        store = await factory.create();
        try {
          await fn(t);
        } finally {
          await store.close();
        }
      });

    describe('migrations', () => {
      test('are applied once: migrate() again and a restart apply nothing', async () => {
        const latest = Math.max(...factory!.migrations.map((m) => m.version));
        assert.equal(await store.schemaVersion(), latest);
        assert.equal(await store.migrate(), 0);
        const again = await factory!.reopen(store);
        try {
          assert.equal(await again.migrate(), 0);
          assert.equal(await again.schemaVersion(), latest);
        } finally {
          await again.close();
        }
      });

      test('a failing migration is rolled back whole and reported', async () => {
        const bad: Migration = { version: 999, name: 'broken', up: ['CREATE TABLE half_done (a INTEGER)', 'SELECT * FROM no_such_table'] };
        const other = await factory!.reopen(store, [...factory!.migrations, bad]);
        try {
          await assert.rejects(other.migrate(), (err: StoreError) => err.code === 'STORE_MIGRATION_FAILED' && /999/.test(err.message));
          assert.equal(await other.schemaVersion(), Math.max(...factory!.migrations.map((m) => m.version)));
          // The first statement was rolled back with the second: applying a fixed v999 works.
          const fixed: Migration = { version: 999, name: 'fixed', up: ['CREATE TABLE half_done (a INTEGER)'] };
          const third = await factory!.reopen(store, [...factory!.migrations, fixed]);
          try {
            assert.equal(await third.migrate(), 1);
            assert.equal(await third.schemaVersion(), 999);
          } finally {
            await third.close();
          }
        } finally {
          await other.close();
        }
      });
    });

    describe('streams', () => {
      test('upsertStream creates meeting and stream; state changes; stopped is final', async () => {
        await store.upsertStream({ ...stream('s1'), operatorId: 'op-1' });
        let s = await store.getStream('s1');
        assert.equal(s?.state, 'starting');
        assert.equal(s?.operatorId, 'op-1');
        assert.equal(s?.startedAt, T0);
        assert.deepEqual(s?.participants, []);
        assert.deepEqual(s?.stats, {});
        assert.deepEqual(await store.getMeeting('meeting-s1'), { meetingUuid: 'meeting-s1', product: 'meeting', createdAt: (await store.getMeeting('meeting-s1'))!.createdAt });

        await store.setStreamState('s1', 'active');
        assert.equal((await store.getStream('s1'))?.state, 'active');
        await store.markStopped('s1', { stoppedAt: T0 + 5000, closeReason: 'stream-terminated' });
        await store.markStopped('s1', { stoppedAt: T0 + 9999, stopReason: 6, closeReason: 'left' });
        await store.setStreamState('s1', 'active');
        await store.upsertStream({ ...stream('s1'), state: 'starting' }); // a late, retried webhook
        s = await store.getStream('s1');
        assert.equal(s?.state, 'stopped');
        assert.equal(s?.stoppedAt, T0 + 5000, 'first stop time kept');
        assert.equal(s?.closeReason, 'stream-terminated', 'first close reason kept');
        assert.equal(s?.stopReason, 6, 'missing stop reason filled in');
        assert.equal(s?.operatorId, 'op-1', 'operator not erased by an upsert without one');
        assert.equal(await store.getStream('nope'), undefined);
        assert.equal(await store.getMeeting('nope'), undefined);
      });

      test('listStreams: newest first, state filter, limit and offset', async () => {
        for (let i = 0; i < 5; i++) await store.upsertStream({ ...stream(`s${i}`, T0 + i * 1000), state: i % 2 ? 'active' : 'starting' });
        await store.markStopped('s4', { stoppedAt: T0 + 10_000 });
        assert.deepEqual((await store.listStreams()).map((s) => s.rtmsStreamId), ['s4', 's3', 's2', 's1', 's0']);
        assert.deepEqual((await store.listStreams({ state: 'active' })).map((s) => s.rtmsStreamId), ['s3', 's1']);
        assert.deepEqual((await store.listStreams({ state: 'stopped' })).map((s) => s.rtmsStreamId), ['s4']);
        assert.deepEqual((await store.listStreams({ limit: 2, offset: 1 })).map((s) => s.rtmsStreamId), ['s3', 's2']);
        assert.deepEqual(await store.listStreams({ state: 'reconnecting' }), []);
      });

      test('stats are added to, per key', async () => {
        await store.upsertStream(stream('s1'));
        await store.addStats('s1', { frames_audio: 10, bytes_audio: 1600 });
        await store.addStats('s1', { frames_audio: 5, frames_video: 1 });
        await store.write({ stream: stream('s1'), statsDelta: { frames_audio: 1 } });
        assert.deepEqual((await store.getStream('s1'))?.stats, { frames_audio: 16, bytes_audio: 1600, frames_video: 1 });
      });
    });

    describe('entities round-trip', () => {
      test('transcript, chat, events, participants and files', async () => {
        const events: TimelineEvent[] = [
          { type: 'participant_join', timestamp: T0 + 1, userId: 16778240, userName: 'Ann' },
          { type: 'stream_state', timestamp: T0 + 2, data: { state: 1, stop_reason: null, nested: { a: [1, 'x'] } } },
        ];
        await store.write({
          stream: stream('s1'),
          transcript: [
            { userId: 16778240, userName: 'Ann', text: 'second', timestamp: T0 + 20, startTime: T0 + 15, endTime: T0 + 20, language: 9 },
            { userId: 'u-2', userName: 'Bob', text: 'first', timestamp: T0 + 10 },
          ],
          chat: [{ userId: 16778240, userName: 'Ann', text: 'hello chat', timestamp: T0 + 30 }],
          events,
          participants: [
            { userId: 16778240, userName: 'Ann', firstSeen: T0 + 1, lastSeen: T0 + 20 },
            { userId: 'u-2', userName: 'Bob', firstSeen: T0 + 10 },
          ],
          state: 'active',
        });
        await store.write({ stream: stream('s1'), participants: [{ userId: 16778240, userName: '', firstSeen: T0 + 100 }, { userId: 'u-2', userName: 'Robert', firstSeen: T0 }] });
        await store.upsertFiles('s1', [
          { path: 'audio/mixed.wav', kind: 'audio', bytes: 32044, durationMs: 1000 },
          { path: 'transcript.vtt', kind: 'transcript', bytes: 10 },
        ]);
        await store.upsertFiles('s1', [{ path: 'audio/mixed.wav', kind: 'audio', bytes: 64044, durationMs: 2000 }]);

        assert.deepEqual(await store.transcript('s1'), [
          { source: 'zoom', userId: 'u-2', userName: 'Bob', text: 'first', timestamp: T0 + 10 },
          { source: 'zoom', userId: '16778240', userName: 'Ann', text: 'second', timestamp: T0 + 20, startTime: T0 + 15, endTime: T0 + 20, language: '9' },
        ]);
        assert.deepEqual(await store.chat('s1'), [{ userId: '16778240', userName: 'Ann', text: 'hello chat', timestamp: T0 + 30 }]);
        assert.deepEqual(await store.events('s1'), [
          { type: 'participant_join', timestamp: T0 + 1, userId: '16778240', userName: 'Ann' },
          { type: 'stream_state', timestamp: T0 + 2, data: { state: 1, stop_reason: null, nested: { a: [1, 'x'] } } },
        ]);
        const s = await store.getStream('s1');
        assert.equal(s?.state, 'active');
        assert.deepEqual(s?.participants, [
          { userId: 'u-2', userName: 'Robert', firstSeen: T0, lastSeen: T0 + 10 },
          { userId: '16778240', userName: 'Ann', firstSeen: T0 + 1, lastSeen: T0 + 100 },
        ]);
        assert.deepEqual(await store.files('s1'), [
          { path: 'audio/mixed.wav', kind: 'audio', bytes: 64044, durationMs: 2000 },
          { path: 'transcript.vtt', kind: 'transcript', bytes: 10 },
        ]);
        assert.deepEqual(await store.transcript('other'), []);
        assert.deepEqual(await store.files('other'), []);
      });

      test('unicode text survives and is searchable', async () => {
        const texts = ['Привет, как дела?', 'Le café crème est prêt', '会議 を 始めます', 'ship it 🚀 today', 'naïve 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 text'];
        await store.write({ stream: stream('s1'), transcript: texts.map((text, i) => ({ userId: i, userName: 'Zoë 東京', text, timestamp: T0 + i })) });
        assert.deepEqual((await store.transcript('s1')).map((t) => t.text), texts);
        assert.equal((await store.transcript('s1'))[0].userName, 'Zoë 東京');
        for (const [q, expected] of [['привет', texts[0]], ['café', texts[1]], ['会議', texts[2]], ['ship 🚀', texts[3]]] as const) {
          const hits = await store.search(q);
          assert.deepEqual(hits.map((h) => h.text), [expected], `query ${q}`);
        }
      });
    });

    describe('search', () => {
      const seed = async () => {
        await store.write({
          stream: stream('a'),
          transcript: [
            { userId: 1, userName: 'Ann', text: 'Let us review the quarterly budget today', timestamp: T0 + 1 },
            { userId: 2, userName: 'Bob', text: 'budget budget budget, the budget is all I think about', timestamp: T0 + 2 },
            { userId: 2, userName: 'Bob', text: 'the review of the roadmap can wait', timestamp: T0 + 3 },
          ],
          chat: [{ userId: 3, userName: 'Cy <admin>', text: 'link to the <b>budget</b> sheet & notes', timestamp: T0 + 4 }],
        });
        await store.write({
          stream: stream('b'),
          transcript: [{ userId: 9, userName: 'Dee', text: 'no budget talk in this meeting, only the quarterly budget review', timestamp: T0 + 5 }],
        });
      };

      test('finds a phrase, with speaker, kind, timestamp and a highlighted snippet', async () => {
        await seed();
        const hits = await store.search('"quarterly budget"');
        assert.deepEqual(hits.map((h) => [h.rtmsStreamId, h.speaker, h.timestamp]).sort(), [['a', 'Ann', T0 + 1], ['b', 'Dee', T0 + 5]]);
        const ann = hits.find((h) => h.speaker === 'Ann')!;
        assert.equal(ann.kind, 'transcript');
        assert.equal(ann.userId, '1');
        assert.equal(ann.text, 'Let us review the quarterly budget today');
        // SQLite marks the phrase as one run, PostgreSQL each word of it.
        assert.match(ann.snippet, /^Let us review the <mark>quarterly( budget<\/mark>|<\/mark> <mark>budget<\/mark>) today$/);
        assert.equal(typeof ann.score, 'number');
      });

      test('ranks the more relevant hit first, filters by stream, respects the limit', async () => {
        await seed();
        const all = await store.search('budget');
        assert.equal(all.length, 4);
        assert.equal(all[0].text, 'budget budget budget, the budget is all I think about');
        for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].score >= all[i].score, 'scores descend');
        const inB = await store.search('budget', { streamId: 'b' });
        assert.deepEqual(inB.map((h) => h.speaker), ['Dee']);
        assert.equal((await store.search('budget', { limit: 2 })).length, 2);
        assert.deepEqual(await store.search('budget', { streamId: 'nope' }), []);
      });

      test('chat hits are HTML-escaped in the snippet, raw in the text', async () => {
        await seed();
        const [hit] = await store.search('sheet');
        assert.equal(hit.kind, 'chat');
        assert.equal(hit.speaker, 'Cy <admin>');
        assert.equal(hit.text, 'link to the <b>budget</b> sheet & notes');
        assert.ok(!hit.snippet.includes('<b>'), hit.snippet);
        assert.match(hit.snippet, /&lt;b&gt;budget&lt;\/b&gt; <mark>sheet<\/mark> &amp; notes/);
      });

      test('web-search syntax: all words, or, -exclusion', async () => {
        await seed();
        assert.deepEqual((await store.search('review roadmap')).map((h) => h.timestamp), [T0 + 3]);
        assert.deepEqual((await store.search('roadmap or sheet')).map((h) => h.timestamp).sort(), [T0 + 3, T0 + 4]);
        assert.deepEqual((await store.search('budget -quarterly -sheet')).map((h) => h.timestamp), [T0 + 2]);
        assert.deepEqual(await store.search('-budget'), [], 'exclusions alone find nothing');
        assert.deepEqual(await store.search('BUDGET', { streamId: 'b' }).then((h) => h.length), 1, 'case-insensitive');
      });

      test('quotes, operators and punctuation in the query never throw', async () => {
        await seed();
        const nasty = [
          '"', '""', '"budget', 'budget"', "budget's", 'a"b"c', '*', 'budget*', '^budget', 'NEAR(budget review)', 'budget NEAR review',
          'budget AND', 'AND', 'OR', 'NOT', 'NOT budget', 'budget NOT', '(budget', 'budget)', '()', 'text:budget', '{text}: budget',
          '-', '--', '- -budget', 'or or or', '!budget', 'budget & review | roadmap', "'; DROP TABLE streams; --", '\\', '%_', ':*',
          'budget <-> review', '\u0000budget', '\u0002budget\u0003', '   ', '', '🙂', 'x'.repeat(5000),
        ];
        for (const q of nasty) {
          const hits = await store.search(q);
          assert.ok(Array.isArray(hits), `query ${JSON.stringify(q)}`);
        }
        assert.equal((await store.search('"budget')).length, 4, 'an unterminated quote still searches');
        assert.equal((await store.search('(budget) review.')).length, 2, 'punctuation around words is ignored');
        assert.deepEqual(await store.search('NEAR(budget review)'), [], 'NEAR is a plain word here');
        assert.equal((await store.listStreams()).length, 2, 'tables intact');
      });
    });

    describe('chat v2 operations', () => {
      const chat = (over: Record<string, unknown>) => ({ userId: 1, userName: 'Ann', text: '', timestamp: T0, ...over });

      test('an edited then deleted message is gone: chat, search, and only the audit remembers', async () => {
        await store.write({ stream: stream('c'), chat: [chat({ messageId: 'm1', text: 'draft about the zebra budget', timestamp: T0 + 1 })] });
        await store.write({ stream: stream('c'), chat: [chat({ messageId: 'm1', operation: 'update', text: 'final words on the giraffe budget', timestamp: T0 + 2, audit: true })] });
        let rows = await store.chat('c');
        assert.deepEqual(rows.map((r) => [r.messageId, r.text, r.editedAt]), [['m1', 'final words on the giraffe budget', T0 + 2]]);
        assert.deepEqual(await store.search('zebra'), [], 'the old text is no longer found');
        assert.deepEqual((await store.search('giraffe')).map((h) => h.text), ['final words on the giraffe budget']);
        await store.write({ stream: stream('c'), chat: [chat({ messageId: 'm1', operation: 'delete', timestamp: T0 + 3, audit: true })] });
        rows = await store.chat('c');
        assert.deepEqual(rows, []);
        assert.deepEqual(await store.search('giraffe'), []);
        assert.deepEqual(
          (await store.chatAudit('c')).map((a) => [a.operation, a.previousText, a.text]),
          [['update', 'draft about the zebra budget', 'final words on the giraffe budget'], ['delete', 'final words on the giraffe budget', undefined]],
        );
      });

      test('an edit survives with its new text; a thread reply keeps its parent; reactions per message; no audit unless asked', async () => {
        await store.write({
          stream: stream('d'),
          chat: [
            chat({ messageId: 'm1', text: 'original', timestamp: T0 + 1, chatSession: { type: 1 } }),
            chat({ messageId: 'm2', parentMessageId: 'm1', text: 'a reply', timestamp: T0 + 2, userId: 2, userName: 'Bob' }),
            chat({ messageId: 'm3', text: 'psst', timestamp: T0 + 3, chatSession: { type: 2 }, receiver: { userId: 2, userName: 'Bob' }, files: [{ fileId: 'f1', fileName: 'a.txt' }] }),
            chat({ messageId: 'm1', operation: 'update', text: 'edited', timestamp: T0 + 4 }),
            chat({ messageId: 'm1', operation: 'reaction_add', emoji: '👍', userId: 2, userName: 'Bob', timestamp: T0 + 5 }),
            chat({ messageId: 'm1', operation: 'reaction_add', emoji: '👍', userId: 3, userName: 'Cy', timestamp: T0 + 6 }),
            chat({ messageId: 'm1', operation: 'reaction_remove', emoji: '👍', userId: 3, userName: 'Cy', timestamp: T0 + 7 }),
            chat({ messageId: 'm2', operation: 'reaction_add', emoji: '🎉', userId: 1, timestamp: T0 + 8 }),
            chat({ messageId: 'nope', operation: 'reaction_add', emoji: '🎉', timestamp: T0 + 9 }),
            chat({ text: 'plain text chat', timestamp: T0 + 10 }),
          ],
        });
        const rows = await store.chat('d');
        assert.deepEqual(rows.map((r) => r.text), ['edited', 'a reply', 'psst', 'plain text chat']);
        assert.deepEqual(rows[0].reactions, [{ emoji: '👍', count: 1, users: [{ userId: '2', userName: 'Bob' }] }]);
        assert.deepEqual(rows[0].chatSession, { type: 1 });
        assert.equal(rows[1].parentMessageId, 'm1');
        assert.deepEqual(rows[1].reactions?.map((r) => r.emoji), ['🎉']);
        assert.deepEqual(rows[2].receiver, { userId: '2', userName: 'Bob' });
        assert.deepEqual(rows[2].files, [{ fileId: 'f1', fileName: 'a.txt' }]);
        assert.deepEqual(rows[3], { userId: '1', userName: 'Ann', text: 'plain text chat', timestamp: T0 + 10 });
        assert.deepEqual(await store.chatAudit('d'), []);
      });

      test('an edit of a message sent before the connection is stored with its final text', async () => {
        await store.write({ stream: stream('e'), chat: [chat({ messageId: 'old', operation: 'update', text: 'only the edit arrived', timestamp: T0 + 1 })] });
        assert.deepEqual((await store.chat('e')).map((r) => [r.text, r.editedAt]), [['only the edit arrived', T0 + 1]]);
      });

      test('transcript attribute and target language round-trip', async () => {
        await store.write({ stream: stream('t'), transcript: [{ userId: 1, userName: 'Ann', text: 'hola', timestamp: T0, attribute: { final: true }, targetLanguage: 28 }] });
        const [seg] = await store.transcript('t');
        assert.deepEqual(seg.attribute, { final: true });
        assert.equal(seg.targetLanguage, 28);
      });

      test('StoreSink: a paused stream is `paused` until it resumes', async () => {
        const info: StreamInfo = { rtmsStreamId: 'p', meetingUuid: 'mp', product: 'meeting', startedAt: T0 };
        const sink = new StoreSink(store, info, { flushIntervalMs: 5 });
        sink.onEvent({ type: 'paused', timestamp: T0 + 1 });
        await sink.flush();
        assert.equal((await store.getStream('p'))?.state, 'paused');
        sink.onEvent({ type: 'resumed', timestamp: T0 + 2 });
        await sink.flush();
        assert.equal((await store.getStream('p'))?.state, 'active');
        await sink.close();
      });
    });

    describe('transcript tracks (speech-to-text)', () => {
      test('a provider track beside Zoom\'s: filtered by source, word timings kept, sources listed, search says the source', async () => {
        const words = [
          { text: 'ship', startTime: T0 + 100, endTime: T0 + 300, confidence: 0.9 },
          { text: 'Friday', startTime: T0 + 300, endTime: T0 + 700 },
        ];
        await store.write({
          stream: stream('tr'),
          transcript: [
            { userId: 1, userName: 'Ann', text: 'we ship on friday', timestamp: T0 + 100 },
            { source: 'deepgram', userId: 1, userName: 'Ann', text: 'ship Friday', timestamp: T0 + 100, startTime: T0 + 100, endTime: T0 + 700, words },
            { source: 'whisper', userId: 'speaker_0', userName: 'Speaker 0', text: 'we ship friday', timestamp: T0 + 90 },
          ],
        });
        assert.deepEqual(await store.transcriptSources('tr'), ['zoom', 'deepgram', 'whisper']);
        assert.deepEqual(await store.transcriptSources('none'), []);
        assert.deepEqual((await store.transcript('tr', { source: 'zoom' })).map((s) => s.text), ['we ship on friday']);
        const dg = await store.transcript('tr', { source: 'deepgram' });
        assert.deepEqual(dg, [{ source: 'deepgram', userId: '1', userName: 'Ann', text: 'ship Friday', timestamp: T0 + 100, startTime: T0 + 100, endTime: T0 + 700, words }]);
        assert.deepEqual((await store.transcript('tr')).map((s) => s.source), ['whisper', 'zoom', 'deepgram']);
        const hits = await store.search('ship');
        assert.deepEqual(hits.map((h) => h.source).sort(), ['deepgram', 'whisper', 'zoom']);
        await store.write({ stream: stream('tr'), chat: [{ userId: 1, userName: 'Ann', text: 'ship it', timestamp: T0 + 800 }] });
        const chatHit = (await store.search('"ship it"')).find((h) => h.kind === 'chat');
        assert.ok(chatHit && chatHit.source === undefined, 'chat hits have no source');
      });
    });

    describe('closing', () => {
      test('close() is idempotent and later calls reject with STORE_CLOSED', async () => {
        await store.close();
        await store.close();
        await assert.rejects(store.listStreams(), (err: StoreError) => err.code === 'STORE_CLOSED');
        await assert.rejects(store.search('x'), (err: StoreError) => err.code === 'STORE_CLOSED');
      });
    });

    describe('StoreSink', () => {
      const info = (id = 'sink-1'): StreamInfo => ({ rtmsStreamId: id, product: 'meeting', meetingUuid: 'm-sink', startedAt: T0 });

      test('queues off the hot path, writes in one batch, flushes everything on close', async () => {
        const f = flaky(store);
        const sink = new StoreSink(f, info(), { flushIntervalMs: 60_000, maxBatch: 1000 });
        sink.onJoined?.({} as never, false);
        for (let i = 0; i < 20; i++) sink.onTranscript(transcriptFrame(i));
        sink.onChat({ userId: 7, userName: 'Gus', text: 'hi all', timestamp: T0 + 50, receivedAt: T0 + 50 });
        sink.onAudio({ userId: 16778240, userName: 'Ann', data: Buffer.alloc(320), timestamp: T0 + 60, receivedAt: T0 + 60 });
        sink.onAudio({ userId: 0, userName: '', data: Buffer.alloc(320), timestamp: T0 + 61, receivedAt: T0 + 61 });
        sink.onVideo({ userId: 16778240, userName: 'Ann', data: Buffer.alloc(100), timestamp: T0 + 62, receivedAt: T0 + 62, kind: 'video' });
        sink.onShare({ userId: 16778240, userName: 'Ann', data: Buffer.alloc(50), timestamp: T0 + 63, receivedAt: T0 + 63, kind: 'deskshare' });
        sink.onEvent({ type: 'participant_join', timestamp: T0 + 5, userId: 'u-9', userName: 'Ivy' });
        sink.onEvent({ type: 'closed', timestamp: T0 + 100, data: { reason: 'stream-terminated', stop_reason: 6 } });
        assert.equal(f.writes.length, 0, 'nothing written synchronously');
        assert.equal(sink.stats.queued, 23);
        await sink.close();
        await sink.close();
        assert.equal(f.writes.length, 1, 'one transaction');
        assert.equal((await store.transcript('sink-1')).length, 20);
        assert.equal((await store.chat('sink-1'))[0].text, 'hi all');
        assert.deepEqual((await store.events('sink-1')).map((e) => e.type), ['participant_join', 'closed']);
        const s = await store.getStream('sink-1');
        assert.equal(s?.state, 'stopped');
        assert.equal(s?.stopReason, 6);
        assert.equal(s?.closeReason, 'stream-terminated');
        assert.deepEqual(
          s?.participants.map((p) => [p.userId, p.userName, p.firstSeen, p.lastSeen]),
          [['16778240', 'Ann', T0, T0 + 62], ['u-9', 'Ivy', T0 + 5, T0 + 5], ['7', 'Gus', T0 + 50, T0 + 50]],
        );
        assert.deepEqual(s?.stats, { frames_audio: 2, bytes_audio: 640, frames_video: 1, bytes_video: 100, frames_share: 1, bytes_share: 50, frames_transcript: 20, frames_chat: 1 });
        assert.deepEqual({ ...sink.stats, lastError: undefined }, {
          queued: 0, written: 23, dropped: 0, droppedByKind: { transcript: 0, chat: 0, events: 0 }, flushes: 1, failedFlushes: 0, retrying: false, lastError: undefined,
          frames: { audio: 2, video: 1, share: 1, transcript: 20, chat: 1 },
        });
      });

      test('flushes on the timer and as soon as maxBatch items wait', async () => {
        const f = flaky(store);
        const sink = new StoreSink(f, info(), { flushIntervalMs: 30, maxBatch: 5 });
        try {
          sink.onTranscript(transcriptFrame(1));
          await until(async () => (await store.transcript('sink-1')).length === 1);
          const before = f.writes.length;
          for (let i = 2; i <= 6; i++) sink.onTranscript(transcriptFrame(i));
          await new Promise((r) => setImmediate(r));
          await until(async () => (await store.transcript('sink-1')).length === 6);
          assert.equal(f.writes.length, before + 1, 'the five went in one write');
        } finally {
          await sink.close();
        }
        assert.equal((await store.getStream('sink-1'))?.closeReason, 'closed', 'close() marks the stream stopped');
      });

      test('counters alone (media frames) are written every countersIntervalMs, items at the flush interval', async () => {
        const f = flaky(store);
        const sink = new StoreSink(f, info('sink-counters'), { flushIntervalMs: 20, countersIntervalMs: 400 });
        try {
          await until(() => f.writes.length === 1); // the stream row and its state at once
          const t0 = Date.now();
          const audio = (i: number) => sink.onAudio({ userId: 0, userName: '', data: Buffer.alloc(640), timestamp: T0 + i, receivedAt: T0 + i });
          audio(1);
          await new Promise((r) => setTimeout(r, 150));
          audio(2);
          assert.equal(f.writes.length, 1, 'frame counts wait for the counters interval');
          sink.onTranscript(transcriptFrame(1));
          await until(() => f.writes.length === 2);
          assert.ok(Date.now() - t0 < 390, 'a transcript line goes out at the flush interval');
          assert.equal(f.writes[1].statsDelta?.frames_audio, 2, 'with the counters so far');
          audio(3);
          await until(() => f.writes.length === 3);
          assert.ok(Date.now() - t0 >= 390, 'counters alone waited');
          assert.deepEqual(f.writes[2].statsDelta, { frames_audio: 1, bytes_audio: 640 });
        } finally {
          await sink.close();
        }
        assert.equal((await store.getStream('sink-counters'))?.stats.frames_audio, 3);
      });

      test('while the store fails: bounded queue, drops counted, recovers without loss of what was kept', async () => {
        const f = flaky(store);
        const warnings: string[] = [];
        const infos: string[] = [];
        const sink = new StoreSink(f, info(), {
          flushIntervalMs: 10,
          retryMaxDelayMs: 20,
          maxQueue: 5,
          logger: { warn: (_o, m) => warnings.push(String(m)), info: (_o, m) => infos.push(String(m)) },
        });
        try {
          f.failing = true;
          for (let i = 0; i < 8; i++) sink.onTranscript(transcriptFrame(i));
          assert.doesNotThrow(() => sink.onChat({ userId: 1, userName: 'A', text: 'dropped chat', timestamp: T0, receivedAt: T0 }));
          await until(() => sink.stats.failedFlushes >= 2);
          let st = sink.stats;
          assert.equal(st.retrying, true);
          assert.equal(st.queued, 5);
          assert.equal(st.dropped, 4);
          assert.deepEqual(st.droppedByKind, { transcript: 3, chat: 1, events: 0 });
          assert.match(st.lastError ?? '', /simulated outage/);
          assert.equal(warnings.filter((w) => /write failed/.test(w)).length, 1, 'one warning per outage, not per retry');
          assert.equal(warnings.filter((w) => /queue full/.test(w)).length, 1);
          f.failing = false;
          await until(() => !sink.stats.retrying && sink.stats.queued === 0);
          st = sink.stats;
          assert.equal(st.written, 5);
          assert.deepEqual((await store.transcript('sink-1')).map((t) => t.timestamp), [0, 1, 2, 3, 4].map((i) => T0 + i), 'kept items in order');
          assert.ok(infos.some((m) => /available again/.test(m)));
          sink.onTranscript(transcriptFrame(100));
          await until(async () => (await store.transcript('sink-1')).length === 6);
        } finally {
          await sink.close();
        }
        assert.equal((await store.getStream('sink-1'))?.stats.store_dropped, 4, 'drops recorded in the stream stats');
      });

      test('close() with a store that never recovers resolves in time, retries in the background, then counts what was left', async () => {
        const f = flaky(store);
        const sink = new StoreSink(f, info(), { flushIntervalMs: 10, retryMaxDelayMs: 20, closeTimeoutMs: 150, abandonAfterMs: 400 });
        f.failing = true;
        for (let i = 0; i < 3; i++) sink.onTranscript(transcriptFrame(i));
        sink.onEvent({ type: 'active_speaker', timestamp: T0, userId: 1, userName: 'A' });
        const t0 = Date.now();
        await sink.close();
        assert.ok(Date.now() - t0 < 2000);
        assert.equal(sink.stats.dropped, 0, 'kept while retried in the background');
        assert.equal(sink.stats.queued, 4);
        await sink.drained();
        assert.ok(Date.now() - t0 >= 400, 'retried until abandonAfterMs');
        assert.deepEqual(sink.stats.droppedByKind, { transcript: 3, chat: 0, events: 1 });
        assert.equal(sink.stats.queued, 0);
        sink.onTranscript(transcriptFrame(9));
        assert.equal(sink.stats.droppedByKind.transcript, 4, 'items after close are counted, not stored');
      });

      test('a stream closed while the store fails is written once the store is back', async () => {
        const f = flaky(store);
        const sink = new StoreSink(f, info('sink-late'), { flushIntervalMs: 10, retryMaxDelayMs: 50, closeTimeoutMs: 100 });
        f.failing = true;
        for (let i = 0; i < 3; i++) sink.onTranscript(transcriptFrame(i));
        await sink.close();
        assert.equal(sink.stats.queued, 3);
        f.failing = false;
        await sink.drained();
        assert.equal(sink.stats.dropped, 0);
        assert.equal((await store.transcript('sink-late')).length, 3);
        assert.equal((await store.getStream('sink-late'))?.state, 'stopped');
      });
    });
  });
}
