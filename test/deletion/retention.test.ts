/**
 * Retention: the config entry (one-line errors naming the JSON path), the sweep with an injected
 * clock (a dry run lists and deletes nothing; a real run deletes only what is older than its
 * product's limit, through the deleter, with an audit line per stream), the daily rhythm under the
 * store's lease, and `openrtms delete` (dry run, refusal without --yes, a stream not stopped).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.js';
import { StreamDeleter } from '../../src/deletion/deleter.js';
import { RetentionSweeper } from '../../src/deletion/retention.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';
import { run as deleteCommand } from '../../src/cli/delete.js';
import { UsageError } from '../../src/cli/args.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
const dirs: string[] = [];
const stores: Store[] = [];
after(async () => {
  for (const s of stores) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function fixture(): Promise<{ dataDir: string; store: Store; add(id: string, product: 'meeting' | 'phone', stoppedDaysAgo: number | undefined): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-retention-'));
  dirs.push(dataDir);
  const store = await openStore({ dataDir, databaseUrl: null });
  stores.push(store);
  return {
    dataDir,
    store,
    async add(id, product, stoppedDaysAgo) {
      // A stream never stopped started 40 days ago: old, but not stopped, so never swept.
      const startedAt = NOW - (stoppedDaysAgo ?? 40) * DAY - 3_600_000;
      await store.write({ stream: { rtmsStreamId: id, meetingUuid: `m-${id}`, product, startedAt }, transcript: [{ userId: 1, userName: 'Ann', text: `confidential words of ${id}`, timestamp: startedAt + 1 }] });
      if (stoppedDaysAgo !== undefined) await store.markStopped(id, { stoppedAt: NOW - stoppedDaysAgo * DAY });
      mkdirSync(join(dataDir, 'recordings', id), { recursive: true });
      writeFileSync(join(dataDir, 'recordings', id, 'transcript.jsonl'), `{"text":"confidential words of ${id}"}\n`);
    },
  };
}

describe('retention config', () => {
  it('accepts days, per product days and dryRun', () => {
    assert.deepEqual(parseConfig('{"retention":{"days":30,"products":{"phone":7},"dryRun":true}}').retention, { days: 30, products: { phone: 7 }, dryRun: true });
    assert.deepEqual(parseConfig('{"retention":{"products":{"phone":0.5}}}').retention, { products: { phone: 0.5 }, dryRun: false });
  });
  it('refuses bad values with one line naming the JSON path', () => {
    const cases: [string, RegExp][] = [
      ['{"retention":{"days":0}}', /^retention\.days: expected a number of days greater than 0/],
      ['{"retention":{"days":"30"}}', /^retention\.days: /],
      ['{"retention":{"products":{"fax":7}}}', /^retention\.products\.fax: unknown product/],
      ['{"retention":{"products":{"phone":-1}}}', /^retention\.products\.phone: expected a number of days/],
      ['{"retention":{"days":3,"dryrun":true}}', /^retention\.dryrun: unknown key/],
      ['{"retention":{"days":3,"dryRun":"yes"}}', /^retention\.dryRun: expected true or false/],
      ['{"retention":{}}', /^retention: give "days"/],
      ['{"retention":30}', /^retention: expected an object/],
    ];
    for (const [text, re] of cases) {
      assert.throws(() => parseConfig(text), (err: Error) => re.test(err.message) && !err.message.includes('\n'), text);
    }
  });
});

describe('retention sweep', () => {
  it('dry run lists what is older than its product allows and deletes nothing; a real run deletes only those, each audited', async () => {
    const f = await fixture();
    await f.add('old-meeting', 'meeting', 31);
    await f.add('young-meeting', 'meeting', 29);
    await f.add('old-phone', 'phone', 8);
    await f.add('young-phone', 'phone', 6);
    await f.add('never-stopped', 'meeting', undefined); // 40 days old, not stopped: kept
    const deleter = new StreamDeleter({ store: f.store, dataDir: f.dataDir, now: () => NOW });
    const config = { days: 30, products: { phone: 7 }, dryRun: true };
    const logs: string[] = [];
    const logger = { info: (o: object, m?: string) => logs.push(`${m} ${JSON.stringify(o)}`), warn: (o: object, m?: string) => logs.push(`${m} ${JSON.stringify(o)}`) };
    const dry = await new RetentionSweeper({ config, store: f.store, deleter, holder: 'a', now: () => NOW, logger }).sweep();
    assert.deepEqual(dry.candidates.map((c) => c.rtmsStreamId), ['old-meeting', 'old-phone']);
    assert.deepEqual(dry.deleted, []);
    assert.ok(logs.some((l) => l.includes('would delete') && l.includes('old-phone')));
    assert.equal((await f.store.listStreams()).length, 5, 'the dry run deleted nothing');
    assert.equal(existsSync(join(f.dataDir, 'audit', 'deletions.jsonl')), false);

    const real = await new RetentionSweeper({ config: { ...config, dryRun: false }, store: f.store, deleter, holder: 'a', now: () => NOW, logger }).sweep();
    assert.deepEqual(real.deleted.sort(), ['old-meeting', 'old-phone']);
    assert.deepEqual((await f.store.listStreams()).map((s) => s.rtmsStreamId).sort(), ['never-stopped', 'young-meeting', 'young-phone']);
    assert.equal(existsSync(join(f.dataDir, 'recordings', 'old-phone')), false);
    assert.ok(existsSync(join(f.dataDir, 'recordings', 'young-phone')));
    assert.deepEqual(await f.store.search('confidential old'), []);
    const audit = readFileSync(join(f.dataDir, 'audit', 'deletions.jsonl'), 'utf8');
    const lines = audit.trim().split('\n').map((l) => JSON.parse(l) as { actor: { kind: string; policy: string }; rtmsStreamId: string });
    assert.deepEqual(lines.map((l) => [l.rtmsStreamId, l.actor.kind, l.actor.policy]), [['old-meeting', 'retention', 'meeting: 30 days'], ['old-phone', 'retention', 'phone: 7 days']]);
    assert.doesNotMatch(audit, /confidential|Ann/);
  });

  it('once a day across processes: a second process skips while the first holds the lease or swept less than a day ago', async () => {
    const f = await fixture();
    await f.add('old', 'meeting', 40);
    let now = NOW;
    const deleter = new StreamDeleter({ store: f.store, dataDir: f.dataDir });
    const config = { days: 30, products: {}, dryRun: false };
    const a = new RetentionSweeper({ config, store: f.store, deleter, holder: 'worker-a', now: () => now });
    const b = new RetentionSweeper({ config, store: f.store, deleter, holder: 'worker-b', now: () => now });
    await f.store.acquireLease('retention', 'worker-a', 3_600_000, now); // a is sweeping
    assert.equal((await b.sweep()).skipped, 'lease');
    await f.store.releaseLease('retention', 'worker-a', now);
    now += 3_600_000;
    assert.equal((await b.sweep(true)).skipped, 'recent', 'a swept an hour ago');
    now += DAY;
    await f.add('old2', 'meeting', 45);
    const r = await b.sweep(true);
    assert.equal(r.skipped, undefined);
    assert.deepEqual(r.deleted.sort(), ['old', 'old2']);
    assert.equal((await a.sweep(true)).skipped, 'recent');
  });
});

describe('openrtms delete', () => {
  async function cli(argv: string[]): Promise<{ code: number; out: string }> {
    const out: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void out.push(a.join(' '));
    try {
      return { code: await deleteCommand(argv), out: out.join('\n') };
    } finally {
      console.log = log;
    }
  }

  it('--dry-run reports and keeps; --yes deletes and audits the local user; a stream not stopped needs --force; bad input is a usage error', async () => {
    const f = await fixture();
    await f.add('s1', 'meeting', 2);
    await f.add('busy', 'meeting', undefined);
    await f.store.close(); // the command opens the store itself
    const dry = await cli(['s1', '--dry-run', '--json', '--data-dir', f.dataDir]);
    assert.equal(dry.code, 0);
    const report = JSON.parse(dry.out) as { dryRun: boolean; removed: { store: { transcript: number }; recordingFiles: number } };
    assert.equal(report.dryRun, true);
    assert.equal(report.removed.store.transcript, 1);
    assert.equal(report.removed.recordingFiles, 1);
    assert.ok(existsSync(join(f.dataDir, 'recordings', 's1')));
    await assert.rejects(cli(['s1', '--data-dir', f.dataDir]), (err: Error) => err instanceof UsageError && /--yes/.test(err.message));
    const done = await cli(['s1', '--yes', '--data-dir', f.dataDir]);
    assert.match(done.out, /^deleted stream s1 \(meeting/);
    assert.equal(existsSync(join(f.dataDir, 'recordings', 's1')), false);
    const audit = JSON.parse(readFileSync(join(f.dataDir, 'audit', 'deletions.jsonl'), 'utf8').trim()) as { actor: { kind: string; user: string } };
    assert.equal(audit.actor.kind, 'cli');
    assert.ok(audit.actor.user.length > 0);
    await assert.rejects(cli(['busy', '--yes', '--data-dir', f.dataDir]), { code: 'STREAM_LIVE', message: /--force/ });
    assert.equal((await cli(['busy', '--yes', '--force', '--data-dir', f.dataDir])).code, 0);
    await assert.rejects(cli(['s1', '--yes', '--data-dir', f.dataDir]), { code: 'STREAM_NOT_FOUND' });
    await assert.rejects(cli(['a', 'b', '--yes']), UsageError);
  });
});
