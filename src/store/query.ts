/**
 * User search input → a safe full-text query, the same way for both databases.
 *
 * The input is web-search syntax (as PostgreSQL's `websearch_to_tsquery`): words must all match,
 * `"quoted phrase"`, `or` between alternatives, `-word` to exclude. It is parsed here into a small
 * tree, then rendered as an FTS5 expression (every term quoted, so `NEAR`, `*`, `^`, `:` and
 * column filters are plain text) or as a normalised websearch string for PostgreSQL. Input that
 * has no searchable term yields `undefined`: the caller returns no hits instead of erroring.
 */
import { forTerminal } from '../util/terminal.js';

export interface QueryTerm {
  /** The term's text (a word or a phrase), without quotes. */
  text: string;
  negated: boolean;
}

/** Alternatives (OR) of conjunctions (AND) of terms. */
export type ParsedQuery = QueryTerm[][];

const SEARCHABLE = /[\p{L}\p{N}]/u;
const SEPARATORS = /[^\p{L}\p{N}\p{M}]+/u;

/** Parses web-search syntax; returns undefined when nothing in it can match. */
export function parseSearchQuery(input: string): ParsedQuery | undefined {
  const groups: QueryTerm[][] = [[]];
  const text = input.normalize('NFC');
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/u.test(c)) {
      i++;
      continue;
    }
    let negated = false;
    if (c === '-' && i + 1 < text.length && !/\s/u.test(text[i + 1])) {
      negated = true;
      i++;
    }
    let term: string;
    const quoted = text[i] === '"';
    if (quoted) {
      const end = text.indexOf('"', i + 1);
      term = end === -1 ? text.slice(i + 1) : text.slice(i + 1, end);
      i = end === -1 ? text.length : end + 1;
    } else {
      let j = i;
      while (j < text.length && !/\s/u.test(text[j]) && text[j] !== '"') j++;
      term = text.slice(i, j);
      i = j;
      if (!negated && term.toLowerCase() === 'or') {
        if (groups[groups.length - 1].length > 0) groups.push([]);
        continue;
      }
    }
    // Control characters are never searchable and would confuse snippet markers.
    term = term.replace(/[\p{Cc}]/gu, ' ').trim();
    if (!SEARCHABLE.test(term)) continue;
    const group = groups[groups.length - 1];
    if (quoted || negated) group.push({ text: term, negated });
    // A bare word with punctuation inside (`NEAR(budget`, `ship-it`) is each of its words.
    else for (const part of term.split(SEPARATORS)) if (SEARCHABLE.test(part)) group.push({ text: part, negated: false });
  }
  // A group with nothing to find (only exclusions) would match almost everything: drop it.
  const useful = groups.filter((g) => g.some((t) => !t.negated));
  return useful.length ? useful : undefined;
}

function fts5Term(t: QueryTerm): string {
  return `"${t.text.replace(/"/g, '""')}"`;
}

/** The FTS5 MATCH expression of a parsed query. */
export function toFts5(query: ParsedQuery): string {
  const groups = query.map((g) => {
    const pos = g.filter((t) => !t.negated).map(fts5Term);
    const neg = g.filter((t) => t.negated).map(fts5Term);
    // FTS5: NOT binds tighter than AND, so `a b NOT c` = a AND (b NOT c) = (a AND b) NOT c.
    let expr = pos.join(' AND ');
    for (const n of neg) expr = `(${expr}) NOT ${n}`;
    return `(${expr})`;
  });
  return groups.join(' OR ');
}

/** A normalised websearch_to_tsquery input of a parsed query (same meaning as toFts5). */
export function toWebsearch(query: ParsedQuery): string {
  return query
    .map((g) => g.map((t) => `${t.negated ? '-' : ''}"${t.text.replace(/"/g, ' ')}"`).join(' '))
    .join(' or ');
}

/** Snippet markers used inside SQL (never stored: writes strip control characters). */
export const MARK_OPEN = '\u0002';
export const MARK_CLOSE = '\u0003';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Database snippet (control-character markers) → HTML-escaped text with `<mark>` tags. */
export function markersToHtml(raw: string): string {
  return raw
    .replace(/[&<>"']/g, (c) => HTML_ESCAPES[c])
    .replaceAll(MARK_OPEN, '<mark>')
    .replaceAll(MARK_CLOSE, '</mark>');
}

function unescapeHtml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) =>
    e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : "'",
  );
}

/** A SearchHit snippet as plain text (marks removed). */
export function snippetToText(snippet: string): string {
  return unescapeHtml(snippet.replace(/<\/?mark>/g, ''));
}

/**
 * A SearchHit snippet with matches in bold yellow for a terminal. The text between the marks is the
 * participants': its control characters become spaces, so only these colours reach the terminal.
 */
export function snippetToAnsi(snippet: string): string {
  return snippet
    .split(/(<\/?mark>)/)
    .map((part) => (part === '<mark>' ? '\u001b[1;33m' : part === '</mark>' ? '\u001b[0m' : forTerminal(unescapeHtml(part))))
    .join('');
}

/** Removes control characters (other than tab/newline) from text about to be stored. */
export function cleanText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b-\u001f\u007f]/.test(text) ? text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '') : text;
}

/** Clamps a limit option. */
export function clampLimit(value: number | undefined, def: number, max: number): number {
  if (value === undefined || !Number.isFinite(value)) return def;
  return Math.max(1, Math.min(max, Math.floor(value)));
}
