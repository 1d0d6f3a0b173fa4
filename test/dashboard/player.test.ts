import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

// No ffmpeg, whatever this machine has: the player and the stills must not need it.
process.env.PATH = (process.env.PATH ?? '').split(delimiter).filter((d) => d && !existsSync(join(d, 'ffmpeg'))).join(delimiter);

const { Emulator } = await import('../../src/emulator/index.js');
const { demoScenario } = await import('../../src/emulator/scenario.js');
const { createRuntime } = await import('../../src/server/runtime.js');
const { openStore } = await import('../../src/store/open.js');
const { findFfmpeg } = await import('../../src/live/thumbnails.js');

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'];

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

interface Sample {
  /** Wall-clock ms when the frame is presented (requestVideoFrameCallback's expectedDisplayTime). */
  shownAt: number;
  /** RTMS timestamp of the presented frame: the track's base + mediaTime. */
  frameTs: number;
  /** RTMS timestamp the speakers play at that same instant (null before audio runs). */
  heardTs: number | null;
}

describe('live player and replay in headless Chromium (no ffmpeg, behind the API token)', { skip: existsSync(CHROMIUM) ? false : `Chromium not installed at ${CHROMIUM}` }, () => {
  it('plays the live meeting within a second of the emulator, in sync, audible, then replays from a transcript line', async (t) => {
    assert.equal(findFfmpeg(), false, 'ffmpeg hidden from this test');
    const { chromium } = await import('playwright-core');
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-player-'));
    const creds = { clientId: 'p', clientSecret: 'p-secret', secretToken: 'p-token' };
    const apiToken = 'player-token';
    const store = await openStore({ dataDir, databaseUrl: null });
    const runtime = createRuntime({ ...creds, webhookPath: '/webhook', store, dataDir, apiToken });
    const { url } = await runtime.app.listen(0, '127.0.0.1');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    const emu = new Emulator({ ...creds, webhookUrl: `${url}/webhook`, scenario: demoScenario(13) });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      t.after(() => errors.length && t.diagnostic(`page errors: ${errors.join(' | ')}`));
      await page.goto(`${url}/?token=${apiToken}`);
      await emu.start();
      const running = emu.run();
      const watch = page.locator('[data-action="watch-live"]');
      await watch.waitFor({ timeout: 8000 });
      await page.waitForFunction(() => document.querySelector('[data-action="watch-live"]')?.textContent?.includes('live'), undefined, { timeout: 8000 });
      await watch.click();

      // Picture within 3 s: decoded frames (videoWidth) and a clock that moves.
      const video = page.locator('video[data-live="video"]');
      await page.waitForFunction(() => (document.querySelector('video[data-live="video"]') as HTMLVideoElement | null)?.videoWidth! > 0, undefined, { timeout: 3000 });
      const t1 = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
      await page.waitForFunction((t1) => (document.querySelector('video[data-live="video"]') as HTMLVideoElement).currentTime > t1 + 0.2, t1, { timeout: 3000 });
      const width = await video.evaluate((v: HTMLVideoElement) => v.videoWidth);
      assert.equal(width, 640, 'the camera clip is 640 wide');

      // Latency and A/V sync per presented frame, over 4 s, once the player has settled (~1 s: the
      // start is the latest keyframe, up to a GOP behind, which the player jumps over). The emulator stamps each frame with its
      // scenario time and sends it at that time or later, so now − timestamp bounds send → screen from above.
      await page.waitForTimeout(1000);
      // (A string, not a function: tsx's name helpers do not exist in the page.)
      const samples = (await page.evaluate(`new Promise((resolve) => {
        const v = document.querySelector('video[data-live="video"]');
        const player = window.__openrtmsPlayer;
        const out = [];
        const until = performance.now() + 4000;
        const onFrame = (_now, meta) => {
          const base = Number(v.dataset.base);
          out.push({ shownAt: performance.timeOrigin + meta.expectedDisplayTime, frameTs: base + meta.mediaTime * 1000, heardTs: player.heardTs(meta.expectedDisplayTime) });
          if (performance.now() < until) v.requestVideoFrameCallback(onFrame);
          else resolve(out);
        };
        v.requestVideoFrameCallback(onFrame);
      })`)) as Sample[];
      assert.ok(samples.length > 40, `frames presented in 4 s: ${samples.length}`);
      const latency = samples.map((s) => s.shownAt - s.frameTs);
      const p50 = pct(latency, 50);
      const p95 = pct(latency, 95);
      const synced = samples.filter((s) => s.heardTs !== null).map((s) => Math.abs(s.frameTs - s.heardTs!));
      assert.ok(synced.length > samples.length / 2, `audio clock known for ${synced.length} of ${samples.length} frames`);
      const sync95 = pct(synced, 95);
      t.diagnostic(`latency emulator → screen: p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms over ${samples.length} frames; |video − audio| p50 ${pct(synced, 50).toFixed(0)} ms, p95 ${sync95.toFixed(0)} ms`);
      assert.ok(p95 < 1000, `p95 latency ${p95.toFixed(0)} ms`);
      assert.ok(sync95 < 100, `p95 A/V offset ${sync95.toFixed(0)} ms`);

      // Audible: the RMS of what the worklet plays rises above silence while someone speaks.
      let rms = 0;
      for (let i = 0; i < 30 && rms < 0.01; i++) {
        rms = Math.max(rms, Number(await page.locator('[data-live="audio"]').getAttribute('data-audio-rms')));
        await page.waitForTimeout(100);
      }
      assert.ok(rms > 0.01, `played RMS ${rms}`);
      t.diagnostic(`played audio RMS ${rms.toFixed(3)}`);

      // README screenshots: OPENRTMS_UPDATE_SCREENSHOT=1 node scripts/run-tests.mjs test/dashboard/player.test.ts
      if (process.env.OPENRTMS_UPDATE_SCREENSHOT) {
        await page.setViewportSize({ width: 1280, height: 1400 }); // the dashboard scrolls inside; show the transcript too
        await page.screenshot({ path: 'docs/img/live-player.png' });
      }

      // One participant's camera: the choice becomes VIDEO_SUBSCRIPTION_REQ, which the emulator accepts.
      const camera = page.locator('select[data-action="camera"]');
      const chosen = await camera.locator('option').nth(2).getAttribute('value');
      await camera.selectOption(chosen!);
      await page.waitForFunction((id) => (window as unknown as { __openrtmsPlayer: { videoUser?: string } }).__openrtmsPlayer.videoUser === id, chosen, { timeout: 3000 });

      // Mute: what is played is silence, and the attribute says so.
      await page.locator('[data-action="mute"]').click();
      await page.waitForFunction(() => Number(document.querySelector('[data-live="audio"]')!.getAttribute('data-audio-rms')) === 0, undefined, { timeout: 2000 });
      await page.locator('[data-action="mute"]').click();

      // Replay: once the meeting ended, a transcript line seeks the recording to it.
      await running;
      await page.waitForFunction(() => document.querySelector('[data-action="watch-live"]')?.textContent?.includes('recording'), undefined, { timeout: 8000 });
      await page.locator('[data-action="close-player"]').click();
      // The recorder writes its final manifest while closing: wait for it.
      const auth = { authorization: `Bearer ${apiToken}` };
      const { streams } = (await (await fetch(`${url}/api/streams`, { headers: auth })).json()) as { streams: { rtmsStreamId: string }[] };
      for (let i = 0; i < 80; i++) {
        const r = await fetch(`${url}/api/streams/${streams[0].rtmsStreamId}/files/manifest.json`, { headers: auth });
        if (r.ok && ((await r.json()) as { complete?: boolean }).complete) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const line = page.locator('#transcript .line[data-ts]').nth(2);
      const lineTs = Number(await line.getAttribute('data-ts'));
      await line.click();
      await page.waitForFunction(() => document.querySelector('#transcript .line.now') !== null, undefined, { timeout: 5000 }).catch(async (e) => {
        throw new Error(`${e.message}; player: ${await page.evaluate(() => JSON.stringify({ p: Object.keys((window as unknown as { __openrtmsPlayer?: object }).__openrtmsPlayer ?? {}), slot: document.querySelector('#player-slot')?.innerHTML.slice(0, 300) }))}`);
      });
      const replay = await page.evaluate(() => {
        const p = (window as unknown as { __openrtmsPlayer: { t0: number; audio: HTMLAudioElement } }).__openrtmsPlayer;
        const v = document.querySelector('video[data-live="video"]') as HTMLVideoElement;
        return { t0: p.t0, audio: p.audio.currentTime, video: v.currentTime, now: Number(document.querySelector('#transcript .line.now')!.getAttribute('data-ts')) };
      });
      if (process.env.OPENRTMS_UPDATE_SCREENSHOT) {
        await page.waitForTimeout(800);
        await page.screenshot({ path: 'docs/img/replay.png' });
      }
      const want = (lineTs - replay.t0) / 1000;
      assert.ok(Math.abs(replay.audio - want) < 1.5, `replay at ${replay.audio.toFixed(2)} s, the line starts at ${want.toFixed(2)} s`);
      assert.equal(replay.now, lineTs, 'the clicked line is the one highlighted');
    } finally {
      await browser.close();
      await emu.close();
      await runtime.shutdown();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
