/**
 * Fitting text into a model's context window. Token counts are estimated (about 4 characters per
 * token for English, rounded up, counted on the UTF-8 length so that other scripts are not
 * underestimated): the budget keeps a margin for the estimate being off.
 */

export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text) / 4);
}

/**
 * Splits lines into consecutive chunks of at most `budget` estimated tokens each (a line alone
 * longer than the budget is cut). Order is kept; nothing is dropped.
 */
export function chunkLines(lines: readonly string[], budget: number): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let used = 0;
  for (const line of lines) {
    for (const piece of splitLong(line, budget)) {
      const cost = estimateTokens(piece) + 1;
      if (used + cost > budget && current.length) {
        chunks.push(current);
        current = [];
        used = 0;
      }
      current.push(piece);
      used += cost;
    }
  }
  if (current.length) chunks.push(current);
  return chunks;
}

function splitLong(line: string, budget: number): string[] {
  if (estimateTokens(line) + 1 <= budget) return [line];
  const out: string[] = [];
  // Characters per piece, by the byte-based estimate of this line.
  const perChar = Buffer.byteLength(line) / line.length;
  const size = Math.max(1, Math.floor(((budget - 1) * 4) / perChar) - 4);
  for (let i = 0; i < line.length; i += size) out.push(line.slice(i, i + size));
  return out;
}
