/**
 * `openrtms delete ID [--yes] [--dry-run] [--json] [--data-dir DIR] [--config FILE] [--force]`:
 * deletes one stream everywhere it went — the store (rows, search index), its recording directory,
 * the webhook outbox, the upload journal and the objects uploaded to the config file's S3 / Azure
 * Blob destinations — and appends an audit line to `<data-dir>/audit/deletions.jsonl`. Runs against
 * the store and data dir directly (the server may be running); a stream the store does not show as
 * stopped is refused unless `--force` (its server may still be recording it).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { DeliveryHub } from '../delivery/hub.js';
import { StreamDeleter, cliActor, type DeletionReport } from '../deletion/deleter.js';
import { DeletionError } from '../errors.js';
import { openStore, sqlitePath } from '../store/open.js';
import { SqliteStore } from '../store/sqlite.js';
import { UsageError, helpText, parseCommand, type CommandSpec } from './args.js';
import { configFlag, configFromFile } from './config.js';
import { loadDotEnv } from './dotenv.js';

export const spec: CommandSpec = {
  name: 'delete',
  summary: 'delete a stream everywhere: store, search index, recordings, delivery state, uploaded objects',
  usage: 'openrtms delete ID [--yes] [--dry-run] [--json] [--data-dir DIR] [--config FILE] [--force]',
  positionals: { name: 'ID', required: true },
  flags: {
    yes: { type: 'boolean', short: 'y', help: 'do not ask for confirmation (needed when stdin is not a terminal)' },
    'dry-run': { type: 'boolean', help: 'only print what would be removed' },
    json: { type: 'boolean', help: 'print the report as one JSON object' },
    force: { type: 'boolean', help: 'delete a stream the store does not show as stopped (its server is gone)' },
    'data-dir': { type: 'string', help: 'database, recordings and audit file (env OPENRTMS_DATA_DIR, default ./data); DATABASE_URL selects PostgreSQL', placeholder: 'DIR' },
    config: configFlag,
  },
  examples: [
    'openrtms delete 0d9f1b7c… --dry-run          # what would go',
    'openrtms delete 0d9f1b7c… --yes              # delete, no question asked',
    'openrtms delete 0d9f1b7c… --config /etc/openrtms/openrtms.config.json --yes   # also its S3 / Azure objects',
  ],
};

function describe(r: DeletionReport): string {
  const s = r.removed.store;
  const rows = s ? Object.entries(s).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ') || 'none' : 'none';
  const objects = Object.entries(r.removed.objects).map(([d, n]) => `${n} in ${d}`).join(', ') || 'none';
  return [
    `${r.dryRun ? 'would delete' : 'deleted'} stream ${r.rtmsStreamId}${r.product ? ` (${r.product}${r.startedAt ? `, started ${new Date(r.startedAt).toISOString()}` : ''})` : ''}`,
    `  store rows: ${rows}`,
    `  recording: ${r.removed.recordingFiles} file(s), ${r.removed.recordingBytes} bytes`,
    `  delivery: ${r.removed.outbox} outbox row(s), ${r.removed.uploadJournals} upload journal(s); objects: ${objects}`,
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(spec, argv);
  if (args.help) {
    console.log(helpText(spec));
    return 0;
  }
  if (args.positionals.length > 1) throw new UsageError(`delete: expected one stream ID, got ${args.positionals.length} (see: openrtms delete --help)`);
  const id = args.positionals[0];
  if (!id.trim()) throw new UsageError('delete: ID must not be empty');
  const dryRun = args.values['dry-run'] === true;
  const dataDirFlag = args.values['data-dir'] as string | undefined;
  if (dataDirFlag !== undefined && dataDirFlag.trim() === '') throw new UsageError('--data-dir: expected a directory, got ""');
  loadDotEnv();
  const config = configFromFile('delete', args.values.config);
  const dataDir = resolve(dataDirFlag ?? process.env.OPENRTMS_DATA_DIR ?? './data');
  if (!dryRun && args.values.yes !== true) {
    if (!process.stdin.isTTY) throw new UsageError('delete: pass --yes to delete without a confirmation prompt (stdin is not a terminal)');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question(`delete stream ${id} and everything recorded of it, for good? [y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      console.error('nothing deleted.');
      return 1;
    }
  }
  // Without a database (none was ever written here) the recordings and destinations may still hold
  // the stream: an empty in-memory store stands in rather than creating a database file.
  const store = process.env.DATABASE_URL || existsSync(sqlitePath(dataDir)) ? await openStore({ dataDir }) : new SqliteStore({ path: ':memory:' });
  await store.migrate();
  // Not started: it only removes (no event is sent, no upload resumed by this process).
  const delivery = new DeliveryHub({ destinations: config.destinations ?? [], dataDir });
  try {
    const row = await store.getStream(id);
    const deleter = new StreamDeleter({
      store,
      dataDir,
      delivery,
      liveState: () => (row && row.state !== 'stopped' && args.values.force !== true ? row.state : undefined),
    });
    let report: DeletionReport;
    try {
      report = await deleter.delete(id, cliActor(), { dryRun });
    } catch (err) {
      if (err instanceof DeletionError && err.code === 'STREAM_LIVE') {
        throw new DeletionError('STREAM_LIVE', `stream ${id} is ${row?.state} in the store: its server may still be recording it. Stop it first (openrtms control stop …, or end the meeting); if that server is gone, pass --force`, err.details as Record<string, unknown>);
      }
      throw err;
    }
    console.log(args.values.json ? JSON.stringify(report) : describe(report));
    return 0;
  } finally {
    await delivery.close(0);
    await store.close();
  }
}
