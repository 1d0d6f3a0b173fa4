/**
 * The provider drops its socket mid-meeting and refuses connections for a while. The sink buffers
 * (bounded), reconnects with backoff and resends what the provider had not confirmed: with the
 * outage inside the bound nothing is lost; beyond it, the audio lost is the outage minus the bound,
 * counted — never more.
 */
import { after, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../../src/emulator/index.js';
import { demoScenario } from '../../../src/emulator/scenario.js';
import { openStore } from '../../../src/store/open.js';
import { createRuntime } from '../../../src/server/runtime.js';
import { parseTranscription } from '../../../src/intelligence/stt/config.js';
import { startDeepgramStandIn } from '../../helpers/stt/deepgram-server.js';
import { speechLines } from '../../helpers/stt/recognizer.js';

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});
const creds = { clientId: 'drop-client', clientSecret: 'drop-secret', secretToken: 'drop-token' };
const quiet = { info() {}, warn() {}, error() {} };

async function meetingWithOutage(t: TestContext, bufferSeconds: number, outageMs: number) {
  const dg = await startDeepgramStandIn({ apiKey: 'dg-key' });
  cleanups.push(() => dg.close());
  const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-stt-drop-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const store = await openStore({ dataDir, databaseUrl: null });
  const runtime = createRuntime({
    ...creds,
    webhookPath: '/webhook',
    store,
    dataDir,
    logger: quiet,
    transcription: parseTranscription([{ provider: 'deepgram', apiKey: 'dg-key', baseUrl: dg.url, audio: 'mixed', bufferSeconds }]),
    transcriptionTuning: { backoffMs: 100 },
  });
  const { url } = await runtime.app.listen(0, '127.0.0.1');
  cleanups.push(() => runtime.shutdown());
  const scenario = demoScenario(10);
  const emu = new Emulator({ ...creds, webhookUrl: `${url}/webhook`, product: 'meeting', scenario, seed: 7 });
  await emu.start();
  cleanups.push(() => emu.close());
  const run = emu.run();
  // Mid-meeting: the provider's socket dies, and it refuses new ones for `outageMs`.
  await new Promise((r) => setTimeout(r, 3000));
  const droppedAt = Date.now();
  dg.refuse = true;
  assert.equal(dg.drop(), 1, 'one connection (mixed audio) was open');
  await new Promise((r) => setTimeout(r, outageMs));
  dg.refuse = false;
  const summary = await run;
  const id = emu.streams[0].id.rtmsStreamId;
  const deadline = Date.now() + 20_000;
  while ((await store.getStream(id))?.state !== 'stopped' || runtime.transcription!.totals().get('deepgram')!.sentMs === 0) {
    if (Date.now() > deadline) throw new Error('stream did not stop');
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 300));
  const totals = runtime.transcription!.totals().get('deepgram')!;
  const reopened = dg.connections[1]?.openedAt ?? Date.now();
  const outage = reopened - droppedAt;
  const track = await store.transcript(id, { source: 'deepgram' });
  const lines = speechLines();
  const spoken = scenario.timeline.filter((i) => i.type === 'speak').map((i) => ({ at: i.at * 1000, line: lines.find((l) => l.text === (i as { text: string }).text)! }));
  t.diagnostic(`bound ${bufferSeconds * 1000} ms, provider unreachable ${outage} ms → audio lost ${Math.round(totals.droppedMs)} ms, resent ${Math.round(totals.resentMs)} ms, reconnects ${totals.reconnects}, failed connects ${totals.failedConnects}`);
  return { dg, summary, totals, outage, track, spoken, droppedAt, startedAt: emu.streams[0] };
}

describe('speech-to-text: the provider drops its socket mid-meeting', () => {
  it('an outage inside the buffer bound loses nothing: every line transcribed once, the unconfirmed audio resent', { timeout: 60_000 }, async (t) => {
    const r = await meetingWithOutage(t, 30, 1500);
    assert.deepEqual(r.dg.violations, []);
    assert.equal(r.totals.reconnects, 1, 'one lost connection');
    assert.ok(r.totals.failedConnects >= 1, 'reconnects were refused while the provider was down');
    assert.ok(r.totals.resentMs > 0, 'unconfirmed audio was sent again');
    assert.equal(r.totals.droppedMs, 0, 'nothing lost');
    assert.deepEqual(r.track.map((s) => s.text), r.spoken.map((s) => s.line.text), 'every line once, in order (no gap, no duplicate)');
  });

  it('an outage beyond the bound loses at most outage − bound, counted', { timeout: 60_000 }, async (t) => {
    const bound = 1;
    const r = await meetingWithOutage(t, bound, 3000);
    assert.deepEqual(r.dg.violations, []);
    const expected = Math.max(0, r.outage - bound * 1000);
    assert.ok(r.totals.droppedMs > 0, 'audio beyond the bound was dropped and counted');
    // The buffer kept the last `bound` of the outage: lost ≤ outage − bound (+ one 100 ms chunk of rounding).
    assert.ok(r.totals.droppedMs <= expected + 150, `lost ${r.totals.droppedMs} ms, outage ${r.outage} ms, bound ${bound * 1000} ms`);
    assert.ok(r.totals.droppedMs >= expected - 600, `lost ${r.totals.droppedMs} ms is the outage beyond the bound (${expected} ms), not less`);
  });
});
