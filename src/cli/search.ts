/**
 * `openrtms search QUERY [--stream ID] [--limit N] [--json] [--data-dir DIR]`: full-text search
 * over stored transcripts and chat. Prints `timestamp  speaker: text` lines, best match first
 * (matches highlighted on a terminal), or one JSON array with `--json`.
 */
import { helpText, intFlag, parseCommand, UsageError, type CommandSpec } from './args.js';
import { openStore } from '../store/open.js';
import { parseSearchQuery, snippetToAnsi, snippetToText } from '../store/query.js';
import { forTerminal } from '../util/terminal.js';
import type { SearchHit } from '../store/types.js';

export const spec: CommandSpec = {
  name: 'search',
  summary: 'full-text search over stored transcripts and chat',
  usage: 'openrtms search QUERY [--stream ID] [--limit N] [--json] [--data-dir DIR]',
  positionals: { name: 'QUERY', required: true },
  flags: {
    stream: { type: 'string', short: 's', help: 'only search this RTMS stream', placeholder: 'ID' },
    limit: { type: 'string', short: 'n', default: '20', help: 'most hits to print (1-500)', placeholder: 'N' },
    json: { type: 'boolean', help: 'print the hits as one JSON array' },
    'data-dir': { type: 'string', help: 'data directory holding openrtms.db (env OPENRTMS_DATA_DIR, default ./data); DATABASE_URL selects PostgreSQL', placeholder: 'DIR' },
  },
  examples: [
    'openrtms search budget                      # every segment or chat message with "budget"',
    'openrtms search \'"action items" -draft\'     # a phrase, excluding "draft"',
    'openrtms search \'budget or forecast\' --stream 0d9f1b7c --limit 5',
    'openrtms search release --json | jq \'.[0].snippet\'',
  ],
};

/** `2025-01-02 10:11:12Z` (UTC, second precision). */
function formatTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z') : String(ms);
}

/** One output line of a hit. */
export function formatHit(hit: SearchHit, color: boolean): string {
  // snippetToAnsi/snippetToText keep participants' control characters away from the terminal.
  const text = (color ? snippetToAnsi(hit.snippet) : forTerminal(snippetToText(hit.snippet))).replace(/\s*\n\s*/g, ' ').replace(/ {2,}/g, ' ');
  const speaker = forTerminal(String(hit.speaker || hit.userId));
  // Speech-to-text tracks say which one (Zoom's own transcript is the default, unmarked).
  const track = hit.source && hit.source !== 'zoom' ? ` (${forTerminal(hit.source)})` : '';
  const who = hit.kind === 'chat' ? `${speaker} (chat)` : `${speaker}${track}`;
  return `${formatTime(hit.timestamp)}  ${who}: ${text}`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(spec, argv);
  if (args.help) {
    console.log(helpText(spec));
    return 0;
  }
  const query = args.positionals.join(' ');
  if (!parseSearchQuery(query)) throw new UsageError(`search: QUERY "${query}" has no words to search for (see: openrtms search --help)`);
  const limit = intFlag('limit', args.values.limit, { min: 1, max: 500 });
  const stream = args.values.stream as string | undefined;
  if (stream !== undefined && stream.trim() === '') throw new UsageError('--stream: expected an RTMS stream id, got ""');
  const dataDir = args.values['data-dir'] as string | undefined;
  if (dataDir !== undefined && dataDir.trim() === '') throw new UsageError('--data-dir: expected a directory, got ""');

  const store = await openStore({ dataDir, existingOnly: true });
  try {
    const hits = await store.search(query, { streamId: stream, limit });
    if (args.values.json) {
      console.log(JSON.stringify(hits, null, 2));
      return 0;
    }
    if (hits.length === 0) {
      console.error(`no matches for ${JSON.stringify(query)}${stream ? ` in stream ${stream}` : ''}`);
      return 0;
    }
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
    process.stdout.write(hits.map((h) => formatHit(h, color)).join('\n') + '\n');
    return 0;
  } finally {
    await store.close();
  }
}
