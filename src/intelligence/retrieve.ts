/**
 * Lexical retrieval over one stream's transcript for `ask`: each segment scored by the query's
 * words it contains (BM25-like: rarer words weigh more, long segments do not win by length),
 * the best ones taken with their neighbours for context, returned in time order.
 */

const STOP = new Set(
  'a an and are as at be but by did do does for from had has have how i in is it its me my of on or our so that the their them they this to us was we were what when where which who why will with you your about after before into than then there these those'.split(' '),
);

/** A crude English stem, enough for "decide"/"decided"/"decides" and "send"/"sends"/"sending" to meet. */
const stem = (w: string) => (w.length > 4 ? w.replace(/(?:ing|ed|es|e|s)$/, '') : w);

export function terms(text: string): string[] {
  return (text.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '').match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 1 && !STOP.has(w)).map(stem);
}

export interface Scored<T> {
  item: T;
  index: number;
  score: number;
}

/**
 * The `limit` best items for `query` (each with `context` neighbours on either side), in their
 * original order. Items no query word appears in are never chosen; an empty list when none match.
 */
export function retrieve<T>(items: readonly T[], textOf: (item: T) => string, query: string, limit = 8, context = 1): Scored<T>[] {
  const q = [...new Set(terms(query))];
  if (!q.length || !items.length) return [];
  const docs = items.map((it) => terms(textOf(it)));
  const avg = docs.reduce((n, d) => n + d.length, 0) / docs.length || 1;
  const df = new Map<string, number>();
  for (const d of docs) for (const w of new Set(d)) if (q.includes(w)) df.set(w, (df.get(w) ?? 0) + 1);
  const k1 = 1.2;
  const b = 0.75;
  const scores = docs.map((d) => {
    let s = 0;
    for (const w of q) {
      const n = df.get(w);
      if (!n) continue;
      const tf = d.filter((x) => x === w).length;
      if (!tf) continue;
      const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
      s += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * d.length) / avg));
    }
    return s;
  });
  const best = scores
    .map((score, index) => ({ score, index }))
    .filter((s) => s.score > 0)
    .sort((x, y) => y.score - x.score || x.index - y.index)
    .slice(0, limit);
  const chosen = new Map<number, number>();
  for (const { index, score } of best) {
    for (let i = Math.max(0, index - context); i <= Math.min(items.length - 1, index + context); i++) chosen.set(i, Math.max(chosen.get(i) ?? 0, i === index ? score : 0));
  }
  return [...chosen.entries()].sort((x, y) => x[0] - y[0]).map(([index, score]) => ({ item: items[index], index, score }));
}
