/**
 * WebVTT and SRT from transcript segments, times relative to the stream start, with speaker names.
 *
 * Names and texts are written by meeting participants: untrusted. Both formats are line-based, so
 * every text is first normalised by {@link captionText} (one line, well-formed Unicode, no control
 * characters). WebVTT then escapes `&`, `<` and `>` (cue text and the `<v>` annotation alike), so a
 * line such as `a < b` or `<script>` shows as written and `-->` can never end a cue. SRT has no escape
 * syntax: there `-->` (or a longer dash run before `>`) is written `->`, so no text line can pass for
 * a timing line. A segment whose text normalises to nothing is left out (an empty cue shows nothing).
 */

export interface CaptionSegment {
  text: string;
  speaker?: string | null;
  userName?: string;
  timestamp: number;
  startTime?: number | null;
  endTime?: number | null;
}

/**
 * The one-line form of a caption text or speaker name: lone surrogates become U+FFFD (what a UTF-8
 * file would hold anyway), every run of whitespace or control characters (line breaks included)
 * becomes one space, and the ends are trimmed.
 */
export function captionText(s: string): string {
  return s
    .replace(/\p{Cs}/gu, '\uFFFD')
    .replace(/[\s\p{Cc}]+/gu, ' ')
    .trim();
}

/** WebVTT cue text escaping (also valid in a `<v>` annotation). */
export function escapeVtt(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** SRT text: no dash run followed by `>` (a timing line's arrow) survives. */
export function srtSafe(s: string): string {
  return s.replace(/-{2,}>/g, '->');
}

function clock(ms: number, sep: '.' | ','): string {
  const t = Math.max(0, Math.round(ms));
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor((t % 3_600_000) / 60_000);
  const s = Math.floor((t % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}${sep}${pad(t % 1000, 3)}`;
}

function span(seg: CaptionSegment, start: number): [number, number] {
  const from = (seg.startTime ?? seg.timestamp) - start;
  let to = (seg.endTime ?? seg.timestamp) - start;
  if (to <= from) to = from + 2000;
  return [from, to];
}

interface Cue {
  from: number;
  to: number;
  who: string;
  text: string;
}

function cues(segments: CaptionSegment[], streamStart: number): Cue[] {
  const out: Cue[] = [];
  for (const seg of segments) {
    const text = captionText(String(seg.text ?? ''));
    if (!text) continue;
    const [from, to] = span(seg, streamStart);
    out.push({ from, to, who: captionText(String(seg.speaker ?? seg.userName ?? '')), text });
  }
  return out;
}

/**
 * `<v Name>`: the name escaped like cue text; one ending in `-` gets a space before `>` (the parser
 * trims it), else `<v a-->` would hold `-->`, which ends a cue.
 */
function voiceTag(name: string): string {
  return `<v ${escapeVtt(name)}${name.endsWith('-') ? ' ' : ''}>`;
}

export function toVtt(segments: CaptionSegment[], streamStart: number): string {
  const blocks = cues(segments, streamStart).map(
    (c, i) => `${i + 1}\n${clock(c.from, '.')} --> ${clock(c.to, '.')}\n${c.who ? voiceTag(c.who) : ''}${escapeVtt(c.text)}`,
  );
  return `WEBVTT\n\n${blocks.join('\n\n')}${blocks.length ? '\n' : ''}`;
}

export function toSrt(segments: CaptionSegment[], streamStart: number): string {
  return cues(segments, streamStart)
    .map((c, i) => `${i + 1}\n${clock(c.from, ',')} --> ${clock(c.to, ',')}\n${srtSafe(c.who ? `${c.who}: ${c.text}` : c.text)}\n`)
    .join('\n');
}
