/** WebVTT and SRT from transcript segments, times relative to the stream start, with speaker names. */

export interface CaptionSegment {
  text: string;
  speaker?: string | null;
  userName?: string;
  timestamp: number;
  startTime?: number | null;
  endTime?: number | null;
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

const nameOf = (seg: CaptionSegment) => seg.speaker ?? seg.userName ?? '';

export function toVtt(segments: CaptionSegment[], streamStart: number): string {
  const cues = segments.map((seg, i) => {
    const [a, b] = span(seg, streamStart);
    const who = nameOf(seg).replace(/[>\n]/g, ' ');
    return `${i + 1}\n${clock(a, '.')} --> ${clock(b, '.')}\n${who ? `<v ${who}>` : ''}${seg.text.replace(/-->/g, '->')}`;
  });
  return `WEBVTT\n\n${cues.join('\n\n')}${cues.length ? '\n' : ''}`;
}

export function toSrt(segments: CaptionSegment[], streamStart: number): string {
  return segments
    .map((seg, i) => {
      const [a, b] = span(seg, streamStart);
      const who = nameOf(seg);
      return `${i + 1}\n${clock(a, ',')} --> ${clock(b, ',')}\n${who ? `${who}: ` : ''}${seg.text}\n`;
    })
    .join('\n');
}
