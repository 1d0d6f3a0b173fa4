/**
 * Chaos: a full disk. Recordings go to a tmpfs of a few hundred KB (we run as root in the test
 * sandbox; without `mount` these tests skip and the file-size-limit test below still runs):
 * the disk fills during a meeting, stays full or is freed again. The server must not crash, must
 * say what failed, must keep answering webhooks and health checks and keep storing transcripts, and
 * once the disk has room the recording resumes with the lost audio as silence (duration kept).
 * The last test runs the real `openrtms serve` process under RLIMIT_FSIZE (`ulimit -f`): Node
 * ignores SIGXFSZ, so an over-limit write fails with EFBIG instead of killing the process.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Emulator } from '../../src/emulator/index.js';
import { compileScenario, mixedPcm } from '../../src/emulator/scenario.js';
import { WavWriter, parseWav } from '../../src/media/wav.js';
import { signWebhook } from '../../src/protocol/index.js';
import { CREDS, TOKEN, chaosScenario, cleanupDirs, delivered, readRecording, sleep, startServe, tmp } from './helpers.js';

const mounts: string[] = [];
after(() => {
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  cleanupDirs();
});

/** A tmpfs of `kb` KB, or the reason there is none. */
function tinyDisk(kb: number): { dir: string; free: () => number; fill: (leaveBytes: number) => void; unfill: () => void } | string {
  if (process.env.OPENRTMS_CHAOS_NO_TMPFS) return 'OPENRTMS_CHAOS_NO_TMPFS is set';
  const dir = tmp('openrtms-tinydisk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    return `cannot mount a tmpfs (${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()})`;
  }
  mounts.push(dir);
  const free = () => {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  };
  const filler = join(dir, 'filler');
  return {
    dir,
    free,
    fill: (leave) => writeFileSync(filler, Buffer.alloc(Math.max(0, free() - leave))),
    unfill: () => rmSync(filler, { force: true }),
  };
}

/** Unhandled rejections would end a real `serve` process: record them instead and assert none. */
function watchUnhandled(): { list: unknown[]; stop(): void } {
  const list: unknown[] = [];
  const on = (e: unknown) => void list.push(e);
  process.on('unhandledRejection', on);
  return { list, stop: () => process.off('unhandledRejection', on) };
}

describe('chaos: full disk', () => {
  it('WavWriter: the disk fills and frees up; no rejection, duration and order kept, the loss is silence', async (t) => {
    const disk = tinyDisk(256);
    if (typeof disk === 'string') return t.skip(disk);
    disk.fill(40 * 1024);
    const w = new WavWriter(join(disk.dir, 'x.wav'), 16000, 1);
    const signal = (i: number) => (i % 2000) + 1; // never zero: a zero in the file is a lost sample
    let i = 0;
    for (let cycle = 0; cycle < 12; cycle++) {
      w.write(Int16Array.from({ length: 8000 }, () => signal(i++)));
      await w.flush();
      if (cycle === 6) disk.unfill();
    }
    await w.close();
    assert.ok(w.writeErrors > 0, 'writes failed while the disk was full');
    assert.match(String((w.lastError as { code?: string })?.code), /ENOSPC/);
    const { samples } = parseWav(readFileSync(w.path));
    assert.equal(samples.length, 96_000, 'every sample accounted for: duration kept');
    let zeros = 0;
    let firstZero = -1;
    let lastZero = -1;
    for (let k = 0; k < samples.length; k++) {
      if (samples[k] === 0) {
        zeros++;
        if (firstZero < 0) firstZero = k;
        lastZero = k;
      } else assert.equal(samples[k], signal(k), `sample ${k} in its place`);
    }
    assert.equal(zeros, w.lostSamples, 'the silence is exactly what was lost');
    assert.equal(lastZero - firstZero + 1, zeros, 'one contiguous gap');
    assert.ok(samples[samples.length - 1] !== 0, 'writing resumed once the disk had room');
  });

  it('serve with its recordings on a full disk: no crash, reported, webhooks and store carry on; a later meeting records fine', { timeout: 60_000 }, async (t) => {
    const disk = tinyDisk(512);
    if (typeof disk === 'string') return t.skip(disk);
    const unhandled = watchUnhandled();
    const serve = await startServe({ dataDir: disk.dir });
    try {
      disk.fill(24 * 1024);
      const emulator = new Emulator({ ...CREDS, secretToken: TOKEN, webhookUrl: serve.webhookUrl, scenario: chaosScenario(4), meetings: 2, keepAliveIntervalMs: 500, recordSent: true, seed: 5 });
      await emulator.start();
      const running = emulator.run();
      // Meanwhile the server answers as usual.
      const answers: number[] = [];
      let done = false;
      void running.then(() => (done = true));
      while (!done) {
        const body = JSON.stringify({ event: 'meeting.participant_joined', payload: {} });
        answers.push((await fetch(serve.webhookUrl, { method: 'POST', body, headers: { 'content-type': 'application/json', ...signWebhook(TOKEN, body) } })).status);
        answers.push((await fetch(`${serve.url}/healthz`)).status);
        await sleep(100);
      }
      await serve.settled();
      await emulator.close();
      assert.ok(answers.length > 40 && answers.every((s) => s === 200), `webhook and health answered 200 throughout (${answers.length} requests)`);
      for (const s of emulator.streams) {
        const id = s.id.rtmsStreamId;
        const e = serve.runtime.registry.get(id)!;
        assert.equal(e.closed?.reason, 'stream-terminated');
        assert.equal(e.client.stats.reconnects, 0, 'the meeting itself was not disturbed');
        const sent = delivered(s);
        assert.deepEqual((await serve.store.transcript(id)).map((x) => x.text), sent.transcript, 'store: every transcript line');
        assert.deepEqual((await serve.store.chat(id)).map((x) => x.text), sent.chat, 'store: every chat message');
        const reports = serve.logs.filter((l) => l.obj.streamId === id && l.msg === 'sink reported an error; the stream and the other sinks continue').map((l) => String(l.obj.err));
        assert.ok(reports.some((m) => /cannot write .*\(ENOSPC\)/.test(m)), `the failure was reported as it happened: ${reports.join(' | ')}`);
        assert.ok(reports.some((m) => /finished after \d+ failed disk write/.test(m)), 'and summed up at the end');
        assert.ok(reports.length <= 3, `reported once per outage, not per write (${reports.length})`);
      }
      assert.deepEqual(unhandled.list, [], 'no unhandled rejection (each would end a serve process)');

      // Room again: the next meeting records completely.
      disk.unfill();
      const next = new Emulator({ ...CREDS, secretToken: TOKEN, webhookUrl: serve.webhookUrl, scenario: chaosScenario(2), keepAliveIntervalMs: 500, recordSent: true, seed: 6 });
      await next.start();
      await next.run();
      await serve.settled();
      await next.close();
      const rec = readRecording(disk.dir, next.streams[0].id.rtmsStreamId);
      assert.equal(rec.manifest.complete, true);
      assert.equal(rec.manifest.counts.write_errors, 0);
      assert.deepEqual(rec.transcript, delivered(next.streams[0]).transcript);
      console.log(`# chaos full disk: 2 meetings on a full 512 KB tmpfs, ${answers.length} webhook/health requests meanwhile all 200, 0 transcripts lost in the store, next meeting recorded completely`);
    } finally {
      unhandled.stop();
      await serve.shutdown();
    }
  });

  it('the disk fills mid-meeting and is freed: the recording resumes, text lines kept, lost audio is silence', { timeout: 60_000 }, async (t) => {
    const disk = tinyDisk(512);
    if (typeof disk === 'string') return t.skip(disk);
    const unhandled = watchUnhandled();
    const serve = await startServe({ dataDir: disk.dir });
    try {
      disk.fill(48 * 1024);
      const emulator = new Emulator({ ...CREDS, secretToken: TOKEN, webhookUrl: serve.webhookUrl, scenario: chaosScenario(6), keepAliveIntervalMs: 500, recordSent: true, seed: 9 });
      await emulator.start();
      const running = emulator.run();
      // 48 KB is about 1.5 s of audio: full after ~2 s, freed at 4 s.
      await sleep(4000);
      const fullFor = serve.logs.some((l) => /ENOSPC/.test(String(l.obj.err)));
      disk.unfill();
      await running;
      await serve.settled();
      await emulator.close();
      assert.ok(fullFor, 'the disk was full before it was freed');

      const stream = emulator.streams[0];
      const sent = delivered(stream);
      const rec = readRecording(disk.dir, stream.id.rtmsStreamId);
      assert.equal(rec.manifest.complete, true, 'the final manifest was written once there was room');
      assert.ok(rec.manifest.counts.write_errors > 0);
      assert.match(String(rec.manifest.last_write_error), /ENOSPC/);
      assert.deepEqual(rec.transcript, sent.transcript, 'transcript.jsonl: lines refused by the full disk were written later, in order');
      assert.deepEqual(rec.chat, sent.chat, 'chat.jsonl too');
      assert.deepEqual((await serve.store.transcript(stream.id.rtmsStreamId)).map((x) => x.text), sent.transcript);

      const wav = parseWav(readFileSync(join(rec.dir, 'audio', 'mixed.wav')));
      const plan = compileScenario(chaosScenario(6), 9);
      const expected = mixedPcm(plan, sent.audioAtMs[0], sent.audioAtMs.length * 20);
      assert.equal(wav.samples.length, expected.length, 'the WAV spans the whole meeting');
      let lost = 0;
      for (let k = 0; k < expected.length; k++) {
        if (wav.samples[k] === expected[k]) continue;
        assert.equal(wav.samples[k], 0, `sample ${k}: either what was sent or silence`);
        lost++;
      }
      assert.ok(lost > 0, 'some audio was lost to the full disk');
      assert.ok(lost <= rec.manifest.counts.audio_samples_lost_write_errors, `lost ${lost} samples, manifest says ${rec.manifest.counts.audio_samples_lost_write_errors}`);
      assert.ok(wav.samples.subarray(-16000).some((x) => x !== 0), 'the last second was recorded again');
      assert.deepEqual(unhandled.list, []);
      console.log(`# chaos disk fills and frees: ${(rec.manifest.counts.audio_samples_lost_write_errors / 16).toFixed(0)} ms of audio lost as silence, WAV ${wav.samples.length / 16} ms = meeting, ${sent.transcript.length}/${sent.transcript.length} transcript lines in transcript.jsonl`);
    } finally {
      unhandled.stop();
      await serve.shutdown();
    }
  });

  it('openrtms serve under a file-size limit (ulimit -f): EFBIG, not SIGXFSZ; keeps serving and says why', { timeout: 60_000 }, async () => {
    const LIMIT_KB = 240;
    const dataDir = tmp('openrtms-fsize-');
    mkdirSync(dataDir, { recursive: true });
    const env = { ...process.env, ZM_RTMS_CLIENT: CREDS.clientId, ZM_RTMS_SECRET: CREDS.clientSecret, ZOOM_SECRET_TOKEN: TOKEN, ZM_RTMS_LOG_FORMAT: 'json', DATABASE_URL: '' };
    // 240 KB per file: the migrated SQLite database (~150 KB, its migrations' write-ahead log included) fits,
    // the mixed WAV reaches it after 7.5 s of audio. The database's write-ahead log may reach it too: then the store fails as well, and retries.
    const child = spawn('bash', ['-c', `ulimit -f ${LIMIT_KB} && exec "${process.execPath}" bin/openrtms.js serve --port 0 --data-dir "${dataDir}"`], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    try {
      let url = '';
      for (let i = 0; i < 200 && !url; i++) {
        url = /webhook (http:\/\/127\.0\.0\.1:\d+)\/webhook/.exec(out)?.[1] ?? '';
        if (!url) await sleep(50);
      }
      assert.ok(url, `serve started: ${out} ${err}`);
      const emulator = new Emulator({ ...CREDS, secretToken: TOKEN, webhookUrl: `${url}/webhook`, scenario: chaosScenario(10), keepAliveIntervalMs: 500, recordSent: true, seed: 4 });
      await emulator.start();
      const summary = await emulator.run();
      await emulator.close();
      await sleep(500);
      assert.equal((await fetch(`${url}/healthz`)).status, 200, 'still serving after its writes failed');
      const body = JSON.stringify({ event: 'meeting.participant_joined', payload: {} });
      assert.equal((await fetch(`${url}/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...signWebhook(TOKEN, body) } })).status, 200);
      assert.equal(summary.missed.audio, 0, 'the meeting was not disturbed');
      const wav = join(dataDir, 'recordings', emulator.streams[0].id.rtmsStreamId, 'audio', 'mixed.wav');
      assert.ok(existsSync(wav) && readFileSync(wav).length <= LIMIT_KB * 1024, 'the WAV stopped at the limit');
      child.kill('SIGTERM');
      const { code, signal } = await exited;
      assert.equal(signal, null, `not killed by a signal (SIGXFSZ would be)`);
      assert.equal(code, 0, `clean exit; stderr: ${err.slice(-2000)}`);
      const lines = err
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg?: string; err?: string });
      assert.ok(
        lines.some((l) => /cannot write audio\/mixed\.wav \(EFBIG\)/.test(String(l.err))),
        `a log line says which file failed and why: ${lines.map((l) => `${l.msg}: ${l.err ?? ''}`).join(' | ')}`,
      );
      console.log(`# chaos ulimit -f ${LIMIT_KB}: serve got EFBIG, kept serving, exited 0 on SIGTERM`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
