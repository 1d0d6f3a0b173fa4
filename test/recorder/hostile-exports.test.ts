// Participant names, chat and transcript text are untrusted: every export must stay parseable by a
// real parser and give the text back, whatever it holds.
//
// Round trip, as defined here:
// - WebVTT (spec parser webvtt-parser, with the full HTML entity table): one cue per segment whose text
//   normalises to something; the cue's text nodes joined equal captionText(text) and the `<v>`
//   annotation, with its character references decoded as the spec's tokenizer does, equals
//   captionText(name). No parser error.
// - SRT (srt-parser-2): the same cues; each cue's text equals srtSafe(`${name}: ${text}`) (or the text
//   alone without a name) after captionText, i.e. `-->` reads `->`.
// - JSONL (transcript.jsonl, chat.jsonl, events.jsonl) and the live feed's JSON: every line parses
//   with JSON.parse and gives back the exact strings, lone surrogates included.
// - File names from ids: only [A-Za-z0-9_%-], never `.`/`..`, reversible for well-formed ids.
// - Terminal lines (`openrtms search`): no control character but the match colours.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import SrtParser from 'srt-parser-2';
import { captionText, srtSafe, toSrt, toVtt, type CaptionSegment } from '../../src/recorder/captions.js';
import { Recorder, fromSafeName, safeName } from '../../src/recorder/index.js';
import { toJson } from '../../src/live/bus.js';
import { formatHit } from '../../src/cli/search.js';
import type { SearchHit } from '../../src/store/types.js';

const require = createRequire(import.meta.url);
const { WebVTTParser } = require('webvtt-parser') as { WebVTTParser: new (entities?: Record<string, string>) => { parse(text: string, mode: string): VttTree } };
const entities = require('webvtt-parser/html-entities.json') as Record<string, string>;

interface VttNode {
  type: 'text' | 'object' | 'timestamp';
  name?: string;
  value?: string;
  children?: VttNode[];
}
interface VttTree {
  errors: { message: string; line: number }[];
  cues: { startTime: number; endTime: number; tree: { children: VttNode[] } }[];
}

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The characters that break line-based formats, mixed into ordinary and arbitrary text. */
const nasty = fc.constantFrom('<', '>', '&', '-', '-->', '\n', '\r', '\r\n', ' ', '\t', '\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\ud800', '\udfff', '\u2028', '\u2029', '\ufeff', ':', '1', '00:00:01,000 --> 00:00:02,000', '<v x>', '&amp;', '&lt', 'WEBVTT', 'NOTE', 'a', 'é', '😀');
const hostile = fc.oneof(
  fc.string({ unit: nasty, maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ maxLength: 20 }),
);

/** Segments one second apart, so cue times are in order (the spec requires it). */
const segments = fc.array(fc.record({ text: hostile, name: hostile }), { minLength: 1, maxLength: 6 }).map((rows) =>
  rows.map((r, i): CaptionSegment => ({ text: r.text, userName: r.name, timestamp: 10_000 + i * 1000, startTime: 10_000 + i * 1000, endTime: 10_500 + i * 1000 })),
);

const decodeRefs = (s: string) => s.replace(/&(amp|lt|gt);/g, (_m, n: string) => (n === 'amp' ? '&' : n === 'lt' ? '<' : '>'));
const textOf = (nodes: VttNode[]): string => nodes.map((n) => (n.type === 'text' ? n.value : n.children ? textOf(n.children) : '')).join('');

function parseVtt(vtt: string): { voice: string; text: string }[] {
  const tree = new WebVTTParser(entities).parse(vtt, 'metadata');
  assert.deepEqual(tree.errors, [], `WebVTT errors for:\n${vtt}`);
  return tree.cues.map((c) => {
    const [first] = c.tree.children;
    if (first?.type === 'object' && first.name === 'v') {
      assert.equal(c.tree.children.length, 1, 'one voice span holds the whole cue');
      return { voice: decodeRefs(first.value ?? ''), text: textOf(first.children ?? []) };
    }
    for (const n of c.tree.children) assert.equal(n.type, 'text', 'cue text has no markup but the voice');
    return { voice: '', text: textOf(c.tree.children) };
  });
}

const expected = (segs: CaptionSegment[]) =>
  segs.map((s) => ({ voice: captionText(s.userName ?? ''), text: captionText(s.text) })).filter((c) => c.text !== '');

describe('WebVTT export with hostile names and texts', () => {
  it('parses without error with the spec parser and gives back every name and text', () => {
    fc.assert(
      fc.property(segments, (segs) => {
        assert.deepEqual(parseVtt(toVtt(segs, 10_000)), expected(segs));
      }),
      { numRuns: Number(process.env.OPENRTMS_PROPERTY_RUNS ?? 300) },
    );
  });

  const one = (text: string, userName = 'Ada') => toVtt([{ text, userName, timestamp: 1000, startTime: 1000, endTime: 2000 }], 0);
  it('keeps the tail of `a < b` and shows `<script>` as text', () => {
    assert.match(one('a < b'), /\n<v Ada>a &lt; b\n$/);
    assert.deepEqual(parseVtt(one('a < b')), [{ voice: 'Ada', text: 'a < b' }]);
    assert.match(one('<script>alert(1)</script>'), /<v Ada>&lt;script&gt;alert\(1\)&lt;\/script&gt;\n$/);
    assert.deepEqual(parseVtt(one('Tom & Jerry &amp;')), [{ voice: 'Ada', text: 'Tom & Jerry &amp;' }]);
  });
  it('a name cannot close the voice tag or open another', () => {
    const vtt = one('hi', 'Eve><c.evil>x</c><v Mallory');
    assert.match(vtt, /<v Eve&gt;&lt;c\.evil&gt;x&lt;\/c&gt;&lt;v Mallory>hi\n$/);
    assert.deepEqual(parseVtt(vtt), [{ voice: 'Eve><c.evil>x</c><v Mallory', text: 'hi' }]);
  });
  it('`-->`, line breaks, NUL and lone surrogates cannot end or split a cue', () => {
    const vtt = toVtt(
      [
        { text: 'a --> b\n\n2\n00:00:05.000 --> 00:00:06.000\nforged', userName: 'x\ny', timestamp: 1000 },
        { text: 'nul\u0000here \ud800 lone', userName: '\udc00', timestamp: 3000 },
      ],
      0,
    );
    assert.deepEqual(parseVtt(vtt), [
      { voice: 'x y', text: 'a --> b 2 00:00:05.000 --> 00:00:06.000 forged' },
      { voice: '\ufffd', text: 'nul here \ufffd lone' },
    ]);
  });
  it('a name ending in dashes cannot make the voice tag an arrow', () => {
    assert.deepEqual(parseVtt(one('<', '--')), [{ voice: '--', text: '<' }]);
    assert.deepEqual(parseVtt(one('x', 'a -')), [{ voice: 'a -', text: 'x' }]);
  });
  it('leaves out segments with nothing to show', () => {
    assert.equal(toVtt([{ text: ' \n\t', userName: 'Ada', timestamp: 0 }], 0), 'WEBVTT\n\n');
  });
});

describe('SRT export with hostile names and texts', () => {
  it('parses into the same cues with srt-parser-2 and gives back every text', () => {
    fc.assert(
      fc.property(segments, (segs) => {
        const cues = new SrtParser().fromSrt(toSrt(segs, 10_000));
        const want = expected(segs).map((c) => srtSafe(c.voice ? `${c.voice}: ${c.text}` : c.text));
        assert.deepEqual(
          cues.map((c) => c.text),
          want,
        );
        assert.deepEqual(
          cues.map((c) => c.id),
          want.map((_, i) => String(i + 1)),
        );
      }),
      { numRuns: Number(process.env.OPENRTMS_PROPERTY_RUNS ?? 300) },
    );
  });
  it('a text holding a timing line cannot forge a cue', () => {
    const srt = toSrt([{ text: 'x\n2\n00:00:05,000 --> 00:00:06,000\nforged', userName: 'Ada', timestamp: 1000 }], 0);
    const cues = new SrtParser().fromSrt(srt);
    assert.equal(cues.length, 1);
    assert.equal(cues[0]!.text, 'Ada: x 2 00:00:05,000 -> 00:00:06,000 forged');
    assert.equal(new SrtParser().fromSrt(toSrt([{ text: 'a < b', userName: 'Ada', timestamp: 0 }], 0))[0]!.text, 'Ada: a < b');
  });
});

describe('JSONL recording files and the live feed with hostile text', () => {
  it('every line of transcript.jsonl, chat.jsonl and events.jsonl parses and holds the exact strings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ text: hostile, name: hostile }), { minLength: 1, maxLength: 5 }), async (rows) => {
        const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-hostile-'));
        dirs.push(dataDir);
        const t0 = 1_700_000_000_000;
        const r = new Recorder({ dataDir, info: { rtmsStreamId: 'hostile', product: 'meeting', meetingUuid: 'm', startedAt: t0 }, chatAudit: false });
        rows.forEach((row, i) => {
          r.onTranscript({ userId: i, userName: row.name, text: row.text, timestamp: t0 + i, receivedAt: t0 });
          r.onChat({ userId: i, userName: row.name, text: row.text, timestamp: t0 + i, receivedAt: t0 });
          r.onEvent({ type: 'participant_join', timestamp: t0 + i, userId: i, userName: row.name });
        });
        await r.close();
        const lines = (f: string) =>
          readFileSync(join(r.dir, f), 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { text?: string; user_name?: string });
        assert.deepEqual(lines('transcript.jsonl').map((l) => [l.user_name, l.text]), rows.map((x) => [x.name, x.text]));
        assert.deepEqual(lines('chat.jsonl').map((l) => [l.user_name, l.text]), rows.map((x) => [x.name, x.text]));
        assert.deepEqual(lines('events.jsonl').map((l) => l.user_name), rows.map((x) => x.name));
        parseVtt(readFileSync(join(r.dir, 'transcript.vtt'), 'utf8'));
        assert.equal(new SrtParser().fromSrt(readFileSync(join(r.dir, 'transcript.srt'), 'utf8')).length, expected(rows.map((x) => ({ text: x.text, timestamp: 0 }))).length);
      }),
      { numRuns: 15 },
    );
  });
  it('a live feed message is one line of JSON (an SSE `data:` line cannot be split)', () => {
    fc.assert(
      fc.property(hostile, hostile, (text, userName) => {
        const json = toJson({ type: 'transcript', source: 'zoom', streamId: 's', userId: '1', userName, text, timestamp: 1 });
        assert.doesNotMatch(json, /[\r\n]/);
        assert.deepEqual(JSON.parse(json), { type: 'transcript', source: 'zoom', streamId: 's', userId: '1', userName, text, timestamp: 1 });
      }),
    );
  });
});

describe('file names from ids', () => {
  it('stay encoded for any id, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, fc.constantFrom('.', '..', '/', '../../etc/passwd', 'a/b', '%2e%2e', 'C:\\x', '', '\u0000', '%', '%00')), (id) => {
        const n = safeName(id);
        assert.match(n, /^[A-Za-z0-9_%-]+$/);
        assert.ok(n !== '.' && n !== '..');
        assert.equal(fromSafeName(n), id.replace(/\p{Cs}/gu, '\ufffd'));
      }),
      { numRuns: Number(process.env.OPENRTMS_PROPERTY_RUNS ?? 500) },
    );
  });
  it('two ids never share a directory (the empty id and "\\0" included)', () => {
    assert.notEqual(safeName(''), safeName('\u0000'));
    const wellFormed = (s: string) => s.replace(/\p{Cs}/gu, '\ufffd');
    fc.assert(
      fc.property(hostile, hostile, (a, b) => {
        if (wellFormed(a) !== wellFormed(b)) assert.notEqual(safeName(a), safeName(b));
      }),
      { numRuns: Number(process.env.OPENRTMS_PROPERTY_RUNS ?? 500) },
    );
  });
});

describe('terminal output (openrtms search)', () => {
  it('participant text cannot drive the terminal: only the match colours are control characters', () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, fc.boolean(), (before, match, speaker, color) => {
        const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
        const line = formatHit({ kind: 'chat', streamId: 's', userId: '1', speaker, timestamp: 0, snippet: `${esc(before)}<mark>${esc(match)}</mark>\u001b]0;owned\u0007\u009b2J` } as unknown as SearchHit, color);
        const controls = line.replace(/\u001b\[1;33m|\u001b\[0m/g, '');
        assert.doesNotMatch(controls, /[\p{Cc}\p{Cs}]/u);
        assert.equal(line.includes('\u001b[1;33m'), color);
      }),
    );
  });
});
