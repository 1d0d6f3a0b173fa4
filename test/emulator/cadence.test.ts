/** Audio cadence (real time and fast), and content that matches the scenario sample for sample. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MsgType } from '../../src/protocol/index.js';
import { bytesToPcm } from '../../src/media/l16.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { expectedMixedFrame, renderExpected } from '../../src/emulator/index.js';
import { firstPayload, joinRaw, sleep, startEmulator } from './raw.js';
import { parseChatData } from '../../src/protocol/index.js';

describe('audio cadence', () => {
  it('real time: about 50 frames per second, 20 ms apart in content time', async () => {
    const { emu } = await startEmulator({ scenario: demoScenario(3), waitForClientMs: 10_000 });
    const running = emu.run();
    try {
      const j = await joinRaw(firstPayload(emu), { mediaType: 1 });
      await j.media.type(MsgType.MEDIA_DATA_AUDIO);
      const before = j.media.count(MsgType.MEDIA_DATA_AUDIO);
      const t0 = performance.now();
      await sleep(1000);
      const perSecond = ((j.media.count(MsgType.MEDIA_DATA_AUDIO) - before) * 1000) / (performance.now() - t0);
      assert.ok(perSecond > 44 && perSecond < 56, `${perSecond.toFixed(1)} frames/s`);
      const ts = j.media.messages.filter((m) => m.msg_type === MsgType.MEDIA_DATA_AUDIO).map((m) => m.content.timestamp as number);
      for (let i = 1; i < ts.length; i++) assert.equal(ts[i] - ts[i - 1], 20);
      j.close();
    } finally {
      await emu.close();
      await running;
    }
  });

  it('fast: exactly N frames for N × 20 ms, faster than real time, sample-exact with the scenario', async () => {
    const scenario = demoScenario(6);
    const { emu } = await startEmulator({ scenario, fast: true, waitForClientMs: 10_000, recordSent: true, seed: 3 });
    const running = emu.run();
    try {
      const j = await joinRaw(firstPayload(emu), { mediaType: 1 | 8 | 16 });
      const t0 = performance.now();
      const summary = await running;
      const elapsed = performance.now() - t0;
      await j.media.closed;
      assert.ok(elapsed < 4000, `6 s of scenario took ${elapsed.toFixed(0)} ms`);
      const audio = j.media.messages.filter((m) => m.msg_type === MsgType.MEDIA_DATA_AUDIO);
      assert.equal(audio.length, 300);
      assert.equal(summary.sent.audio, 300);
      assert.equal(summary.missed.audio, 0);
      const ts = audio.map((m) => m.content.timestamp as number);
      for (let i = 1; i < ts.length; i++) assert.equal(ts[i] - ts[i - 1], 20, 'content time advances 20 ms per frame in fast mode too');

      // Sample-exact: the decoded L16 equals the rendered mixed track.
      const expected = renderExpected(scenario, 3);
      const received = Buffer.concat(audio.map((m) => Buffer.from(m.content.data, 'base64')));
      assert.deepEqual(bytesToPcm(received), expected.mixed16k);
      assert.deepEqual(bytesToPcm(Buffer.from(audio[100].content.data, 'base64')), expectedMixedFrame(expected.plan, 2000));

      // Transcripts and chat: exactly the scenario's lines, with scenario-relative times.
      const epoch = ts[0];
      const transcripts = j.media.messages.filter((m) => m.msg_type === MsgType.MEDIA_DATA_TRANSCRIPT).map((m) => m.content);
      assert.ok(expected.transcripts.length > 0);
      assert.deepEqual(
        transcripts.map((c) => [c.user_id, c.user_name, c.data, c.start_time - epoch, c.end_time - epoch]),
        expected.transcripts.map((t) => [t.user_id, t.user_name, t.text, t.start_ms, t.end_ms]),
      );
      const chat = j.media.messages.filter((m) => m.msg_type === MsgType.MEDIA_DATA_CHAT).map((m) => m.content);
      assert.deepEqual(
        chat.map((c) => [c.user_id, parseChatData(c.data).text]),
        expected.chat.map((c) => [c.user_id, c.text]),
      );

      // recordSent kept exactly what went on the wire.
      const log = emu.streams[0].sentLog;
      assert.equal(log.filter((r) => r.kind === 'audio').length, 300);
      assert.deepEqual(JSON.parse(log.find((r) => r.kind === 'audio')!.message), audio[0]);
      j.close();
    } finally {
      await emu.close();
    }
  });

  it('multi-stream audio: one frame per speaker (at most 3), with the speaker\'s user_id', async () => {
    const { emu } = await startEmulator({ scenario: demoScenario(12), fast: true, waitForClientMs: 10_000 });
    const running = emu.run();
    try {
      const j = await joinRaw(firstPayload(emu), { mediaType: 1, mediaParams: { audio: { data_opt: 2 } } });
      await running;
      await j.media.closed;
      const audio = j.media.messages.filter((m) => m.msg_type === MsgType.MEDIA_DATA_AUDIO);
      assert.ok(audio.length > 0);
      const names = emu.streams[0].plan.names;
      assert.ok(audio.every((m) => names.get(m.content.user_id) === m.content.user_name));
      const perTs = new Map<number, number>();
      for (const m of audio) perTs.set(m.content.timestamp, (perTs.get(m.content.timestamp) ?? 0) + 1);
      assert.ok(Math.max(...perTs.values()) <= 3);
      j.close();
    } finally {
      await emu.close();
    }
  });
});
