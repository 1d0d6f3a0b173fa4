/**
 * Deepgram through the official SDK, against a stand-in that follows Deepgram's live protocol and
 * checks what it receives: per-speaker connections carry only that speaker's audio, mixed audio
 * one diarized connection, KeepAlive while idle, CloseStream at the end.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDeepgramAdapter } from '../../../src/intelligence/stt/deepgram.js';
import { startDeepgramStandIn, type DeepgramStandIn } from '../../helpers/stt/deepgram-server.js';
import { speechFrames, T0 } from '../../helpers/stt/frames.js';
import { entry, feedAll, feedTimed, makeSink } from '../../helpers/stt/drive.js';
import { speechLines } from '../../helpers/stt/recognizer.js';

const KEY = 'dg-test-key';
const servers: DeepgramStandIn[] = [];
after(async () => Promise.all(servers.map((s) => s.close())));

async function standIn(idleTimeoutMs?: number) {
  const s = await startDeepgramStandIn({ apiKey: KEY, idleTimeoutMs });
  servers.push(s);
  return s;
}

describe('deepgram adapter', () => {
  it('per-speaker audio: one connection per participant, each gets only its speaker, labels exact, word timings on the stream clock', async () => {
    const dg = await standIn();
    const config = entry({ provider: 'deepgram', apiKey: KEY, baseUrl: dg.url, model: 'nova-3', language: 'en' });
    const d = makeSink(config, createDeepgramAdapter(config));
    // Ada (line 0) and Grace (line 1) alternate, then Ada again (line 4), overlapping Grace's end.
    const plan = [{ line: 0, atMs: 200 }, { line: 1, atMs: 4300 }, { line: 4, atMs: 8000 }];
    await feedAll(d, speechFrames(plan, true), true);
    // Each connection answers on its own: the track is read in time order.
    d.segments.sort((a, b) => a.startTime - b.startTime);
    assert.deepEqual(dg.violations, []);
    assert.equal(dg.connections.length, 2);
    for (const c of dg.connections) {
      assert.equal(c.authorization, `Token ${KEY}`);
      assert.equal(c.params.encoding, 'linear16');
      assert.equal(c.params.sample_rate, '16000');
      assert.equal(c.params.channels, '1');
      assert.equal(c.params.model, 'nova-3');
      assert.equal(c.params.diarize, 'false');
      assert.equal(c.params.language, 'en');
      assert.equal(c.closeStream, true, 'CloseStream at the end');
      // Routing: everything a connection heard was said by one person.
      assert.equal(new Set(c.recognized.map((r) => r.userId)).size, 1);
    }
    const lines = speechLines();
    assert.deepEqual(
      d.segments.map((s) => [s.userName, s.text]),
      plan.map((p) => [lines[p.line].speaker, lines[p.line].text]),
    );
    for (const [i, s] of d.segments.entries()) {
      assert.equal(s.source, 'deepgram');
      assert.equal(String(s.userId), String(lines[plan[i].line].user_id));
      // The line was placed at T0 + atMs: the segment starts there (± the stand-in's 20 ms windows and the line's lead-in).
      assert.ok(Math.abs(s.startTime - (T0 + plan[i].atMs)) < 400, `segment ${i} starts at +${s.startTime - T0} ms, line at +${plan[i].atMs}`);
      assert.ok(s.words && s.words.length === lines[plan[i].line].text.split(' ').length);
      assert.ok(s.words.every((w) => w.startTime >= s.startTime - 1 && w.endTime <= s.endTime + 1 && w.endTime >= w.startTime));
    }
    assert.equal(d.sink.stats.droppedMs, 0);
  });

  it('mixed audio: one diarized connection, speaker turns from the provider labels', async () => {
    const dg = await standIn();
    const config = entry({ provider: 'deepgram', apiKey: KEY, baseUrl: dg.url, audio: 'mixed' });
    const d = makeSink(config, createDeepgramAdapter(config));
    const plan = [{ line: 0, atMs: 100 }, { line: 1, atMs: 4600 }, { line: 2, atMs: 9400 }];
    await feedAll(d, speechFrames(plan, false), false);
    assert.deepEqual(dg.violations, []);
    assert.equal(dg.connections.length, 1);
    assert.equal(dg.connections[0].params.diarize, 'true');
    const lines = speechLines();
    assert.deepEqual(d.segments.map((s) => s.text), plan.map((p) => lines[p.line].text));
    // Three different people: three different labels, none of them a Zoom user id.
    assert.equal(new Set(d.segments.map((s) => s.userName)).size, 3);
    assert.ok(d.segments.every((s) => /^Speaker \d+$/.test(s.userName) && String(s.userId).startsWith('speaker_')));
  });

  it('sends KeepAlive while a participant is silent, so Deepgram does not close the idle stream', async () => {
    const dg = await standIn(800);
    const config = entry({ provider: 'deepgram', apiKey: KEY, baseUrl: dg.url });
    const d = makeSink(config, createDeepgramAdapter(config, { keepAliveMs: 250 }));
    // Ada speaks, is silent for 2 s (no frames at all in multi-stream mode), speaks again.
    await feedTimed(d, speechFrames([{ line: 0, atMs: 0 }, { line: 4, atMs: 5800 }], true), true, 2);
    await d.sink.close();
    assert.deepEqual(dg.violations, []);
    assert.equal(dg.connections.length, 1, 'no reconnect: the idle timeout never fired');
    assert.ok(dg.connections[0].keepAlives >= 2, `keepAlives ${dg.connections[0].keepAlives}`);
    assert.equal(d.segments.length, 2);
  });

  it('a participant silent for idleCloseMs has their connection finished (CloseStream) and a new one when they speak again', async () => {
    const dg = await standIn();
    const config = entry({ provider: 'deepgram', apiKey: KEY, baseUrl: dg.url });
    const d = makeSink(config, createDeepgramAdapter(config), { idleCloseMs: 5000 });
    const plan = [{ line: 0, atMs: 0 }, { line: 1, atMs: 4000 }, { line: 5, atMs: 8500 }, { line: 4, atMs: 13_000 }];
    await feedAll(d, speechFrames(plan, true), true);
    d.segments.sort((a, b) => a.startTime - b.startTime);
    assert.deepEqual(dg.violations, []);
    assert.equal(dg.connections.length, 3, 'Ada, Grace, and Ada again after her first connection was released');
    assert.ok(dg.connections.every((c) => c.closeStream));
    const lines = speechLines();
    assert.deepEqual(d.segments.map((s) => [s.userName, s.text]), plan.map((p) => [lines[p.line].speaker, lines[p.line].text]));
    assert.equal(d.sink.stats.channels, 3);
    assert.equal(d.sink.stats.droppedMs, 0);
  });

  it('a refused key is a connect failure naming the provider; the sink keeps retrying, bounded, and counts what it could not send', async () => {
    const dg = await standIn();
    const config = entry({ provider: 'deepgram', apiKey: 'wrong', baseUrl: dg.url, bufferSeconds: 1 });
    const d = makeSink(config, createDeepgramAdapter(config), { backoffMs: 20, finishTimeoutMs: 300 });
    await feedAll(d, speechFrames([{ line: 0, atMs: 0 }], true), true);
    assert.ok(d.warnings.some((w) => /deepgram .*cannot connect/.test(w)), d.warnings.join('\n'));
    assert.equal(d.segments.length, 0);
    // 3.8 s of audio, 1 s buffer: at least 2.8 s could not be kept.
    assert.ok(d.sink.stats.droppedMs >= 2700, `dropped ${d.sink.stats.droppedMs} ms`);
  });
});
