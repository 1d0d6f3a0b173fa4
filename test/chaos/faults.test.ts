/**
 * Chaos: every emulator fault against the real serve runtime (webhook over HTTP → registry →
 * client → store, recorder, live and metrics sinks). After each run, what the emulator delivered
 * is compared with what was kept: every transcript line and chat message in the store and in the
 * recording, in order, exactly once; the mixed WAV sample-exact, with the outage (and only the
 * outage) as silence and as gaps in manifest.json; the client reconnected or stopped as it should.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Emulator } from '../../src/emulator/index.js';
import { compileScenario, mixedPcm } from '../../src/emulator/scenario.js';
import type { EmulatorSummary } from '../../src/emulator/summary.js';
import { parseWav } from '../../src/media/wav.js';
import { CREDS, TOKEN, chaosScenario, cleanupDirs, delivered, readRecording, startServe, type Serve } from './helpers.js';

after(cleanupDirs);

const SEED = 7;

interface Outcome {
  serve: Serve;
  emulator: Emulator;
  summary: EmulatorSummary;
}

async function run(faults: string[], o: { durationS?: number; meetings?: number; product?: 'meeting' | 'webinar' | 'session' | 'contact_center' | ('meeting' | 'webinar' | 'session' | 'contact_center')[] } = {}): Promise<Outcome> {
  const serve = await startServe();
  const emulator = new Emulator({
    ...CREDS,
    secretToken: TOKEN,
    webhookUrl: serve.webhookUrl,
    scenario: chaosScenario(o.durationS ?? 5),
    seed: SEED,
    meetings: o.meetings ?? 1,
    product: o.product,
    faults,
    keepAliveIntervalMs: 200,
    recordSent: true,
  });
  try {
    await emulator.start();
    const final = await emulator.run();
    await serve.settled();
    // Late handshakes (a retried start after the stop) are counted after run() resolved.
    const summary = emulator.summary(final.duration_s, final.completed);
    return { serve, emulator, summary };
  } finally {
    await emulator.close();
  }
}

/** Everything one stream delivered is kept; returns the recording's figures. */
async function assertNothingLostBeyondOutage(out: Outcome, index = 0) {
  const { serve, emulator } = out;
  const stream = emulator.streams[index];
  const id = stream.id.rtmsStreamId;
  const sent = delivered(stream);
  assert.ok(sent.transcript.length > 0, 'the scenario delivered transcripts');
  // Contact Center voice carries audio and transcripts only.
  if (stream.id.product !== 'contact_center') assert.ok(sent.chat.length > 0, 'the scenario delivered chat');

  // Store: every delivered line exactly once, in order.
  const storedT = (await serve.store.transcript(id)).map((t) => t.text);
  const storedC = (await serve.store.chat(id)).map((c) => c.text);
  assert.deepEqual(storedT, sent.transcript, 'store: transcript');
  assert.deepEqual(storedC, sent.chat, 'store: chat');

  // Recording: the same lines in transcript.jsonl / chat.jsonl.
  const rec = readRecording(serve.dataDir!, id);
  assert.deepEqual(rec.transcript, sent.transcript, 'recording: transcript.jsonl');
  assert.deepEqual(rec.chat, sent.chat, 'recording: chat.jsonl');
  assert.equal(rec.manifest.complete, true, 'manifest final');
  assert.equal(rec.manifest.counts.dropped, 0, 'recorder dropped nothing');

  // Mixed audio: every delivered 20 ms frame at its place, silence exactly where frames were missed.
  const wav = parseWav(readFileSync(join(rec.dir, 'audio', 'mixed.wav')));
  const plan = compileScenario(chaosScenario(stream.plan.durationMs / 1000), SEED);
  const first = sent.audioAtMs[0];
  const last = sent.audioAtMs[sent.audioAtMs.length - 1];
  const expected = new Int16Array(((last + 20 - first) * 16000) / 1000);
  for (const at of sent.audioAtMs) expected.set(mixedPcm(plan, at, 20), ((at - first) * 16000) / 1000);
  assert.equal(wav.samples.length, expected.length, `WAV duration ${wav.samples.length / 16} ms vs delivered span ${expected.length / 16} ms`);
  assert.ok(Buffer.from(wav.samples.buffer).equals(Buffer.from(expected.buffer)), 'mixed.wav is sample-exact (outage = silence)');
  const missedInside = (last + 20 - first) / 20 - sent.audioAtMs.length;
  const gapMs = rec.manifest.gaps.filter((g) => g.track === 'mixed').reduce((n, g) => n + g.durationMs, 0);
  assert.equal(gapMs, missedInside * 20, `manifest gaps ${gapMs} ms = ${missedInside} missed frames`);
  assert.equal(rec.manifest.counts.audio, sent.audioAtMs.length, 'every delivered audio frame recorded');
  return { gapMs, transcripts: storedT.length, chats: storedC.length, audioFrames: sent.audioAtMs.length, missedAudio: stream.missed.audio };
}

function entry(out: Outcome, index = 0) {
  const e = out.serve.runtime.registry.get(out.emulator.streams[index].id.rtmsStreamId);
  assert.ok(e, 'the registry joined the stream');
  return e;
}

describe('chaos: every emulator fault against serve', { concurrency: 4 }, () => {
  for (const spec of ['drop-signaling@1500ms', 'drop-media@1500ms', 'stall@1500ms:1500ms', 'restart@1500ms:1500ms', 'malformed@1500ms']) {
    it(`${spec}: recovers, nothing lost beyond the outage`, { timeout: 30_000 }, async () => {
      const out = await run([spec]);
      try {
        const e = entry(out);
        const [fault] = out.summary.faults;
        assert.equal(fault.client_recovered, true, 'the client came back');
        if (spec.startsWith('malformed')) {
          assert.equal(e.client.stats.reconnects, 0, 'bad frames are skipped; the connection stays');
          assert.equal(out.summary.missed.audio, 0);
        } else {
          // A lost media connection re-opens media only (signaling stays up), as Zoom documents.
          if (spec.startsWith('drop-media')) assert.ok(e.client.stats.mediaReconnects >= 1 && e.client.stats.reconnects === 0, 'media re-opened, signaling kept');
          else assert.ok(e.client.stats.reconnects >= 1, 'reconnected');
          assert.ok(out.summary.missed.audio > 0, 'the fault cost frames');
        }
        assert.equal(e.closed?.reason, 'stream-terminated', 'stopped when the stream ended');
        assert.equal(out.summary.connections.kicked, 0);
        const figures = await assertNothingLostBeyondOutage(out);
        if (!spec.startsWith('malformed')) assert.ok(figures.gapMs > 0, 'the outage is a recorded gap');
        else assert.equal(figures.gapMs, 0);
        const state = (await out.serve.store.getStream(e.info.rtmsStreamId))!;
        assert.equal(state.state, 'stopped');
        console.log(`# chaos ${spec}: reconnects=${e.client.stats.reconnects} gap=${figures.gapMs}ms missed_audio=${figures.missedAudio} transcripts=${figures.transcripts}/${figures.transcripts} chat=${figures.chats}/${figures.chats}`);
      } finally {
        await out.serve.shutdown();
      }
    });
  }

  it('kick@1500ms: stops for good (RTMS_KICKED), no reconnect, what arrived before is kept', { timeout: 30_000 }, async () => {
    const out = await run(['kick@1500ms']);
    try {
      const e = entry(out);
      assert.equal(e.closed?.reason, 'kicked');
      assert.equal(e.closed?.error?.code, 'RTMS_KICKED');
      assert.equal(out.summary.connections.signaling, 1, 'never retried');
      assert.equal(out.summary.faults[0].client_recovered, false);
      const figures = await assertNothingLostBeyondOutage(out);
      assert.ok(Math.abs(figures.audioFrames * 20 - 1500) <= 40, `recorded ${figures.audioFrames * 20} ms, up to the kick`);
      assert.equal((await out.serve.store.getStream(e.info.rtmsStreamId))!.state, 'stopped');
      assert.equal(out.serve.runtime.registry.active, 0);
    } finally {
      await out.serve.shutdown();
    }
  });

  it('duplicate-webhook:3 on 3 products: one connection each, everything kept', { timeout: 30_000 }, async () => {
    const out = await run(['duplicate-webhook:3'], { meetings: 3, product: ['meeting', 'webinar', 'session'], durationS: 3 });
    try {
      assert.equal(out.summary.webhooks.sent, 3 * 6);
      assert.equal(out.summary.connections.signaling, 3);
      assert.equal(out.summary.connections.kicked, 0);
      assert.equal(out.serve.runtime.registry.list().length, 3);
      for (let i = 0; i < 3; i++) {
        assert.equal(entry(out, i).closed?.reason, 'stream-terminated');
        await assertNothingLostBeyondOutage(out, i);
      }
      assert.equal(out.summary.missed.audio, 0);
    } finally {
      await out.serve.shutdown();
    }
  });

  it('out-of-order: the start retried after the stop is not acted on', { timeout: 30_000 }, async () => {
    const out = await run(['out-of-order'], { durationS: 3 });
    try {
      assert.equal(out.summary.webhooks.sent, 3);
      assert.equal(out.summary.connections.signaling, 1, 'no second connection');
      assert.equal(out.summary.connections.rejected_finished, 0);
      assert.equal(entry(out).closed?.reason, 'stream-terminated');
      await assertNothingLostBeyondOutage(out);
    } finally {
      await out.serve.shutdown();
    }
  });

  it('webhook-delay:400: late start, late stop, everything after the join kept', { timeout: 30_000 }, async () => {
    const out = await run(['webhook-delay:400'], { durationS: 3 });
    try {
      assert.equal(entry(out).closed?.reason, 'stream-terminated');
      assert.equal(out.summary.missed.transcript, 0, 'the stream waits for its client');
      await assertNothingLostBeyondOutage(out);
    } finally {
      await out.serve.shutdown();
    }
  });

  it('everything at once: 4 products, drops, restart, duplicates and a late start', { timeout: 40_000 }, async () => {
    const out = await run(['drop-signaling@1s', 'drop-media@2500ms', 'restart@4s:1s', 'duplicate-webhook:2', 'out-of-order'], {
      meetings: 4,
      product: ['meeting', 'webinar', 'session', 'contact_center'],
      durationS: 6,
    });
    try {
      assert.equal(out.summary.connections.kicked, 0);
      assert.equal(out.summary.connections.rejected_finished, 0);
      for (let i = 0; i < 4; i++) {
        const e = entry(out, i);
        assert.equal(e.closed?.reason, 'stream-terminated');
        assert.ok(e.client.stats.reconnects >= 3, `stream ${i}: reconnected after each of the three faults`);
        await assertNothingLostBeyondOutage(out, i);
      }
      assert.ok(out.summary.faults.every((f) => f.client_recovered));
    } finally {
      await out.serve.shutdown();
    }
  });
});
