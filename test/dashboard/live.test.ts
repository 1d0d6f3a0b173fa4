// The live dashboard in headless Chromium during a real emulated meeting: emulator → webhook →
// registry → RtmsClient → LiveSink/StoreSink/Recorder → LiveBus → WebSocket → page.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { LiveBus } from '../../src/live/bus.js';
import { LiveSink } from '../../src/live/sink.js';
import { ThumbnailStore } from '../../src/live/thumbnails.js';
import { MetricsSink, OpenRtmsMetrics } from '../../src/metrics/index.js';
import { DataOption } from '../../src/protocol/index.js';
import { createRuntime } from '../../src/server/runtime.js';
import { createWebApp } from '../../src/server/web.js';
import { openStore } from '../../src/store/open.js';
import { lineSeenAt, recordTranscriptLines } from '../helpers/page-clock.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const TOKEN = 'dash-token';

describe('live dashboard in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `Chromium not installed at ${CHROMIUM} (.ci/run installs it)` }, () => {
  it('transcript within a second of publication, moving level meters, active speaker, thumbnails, search, playable recording', { timeout: 60_000 }, async (t) => {
    const { chromium } = await import('playwright-core');
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-live-ui-'));
    const creds = { clientId: 'lv', clientSecret: 'lv-secret', secretToken: 'lv-token' };
    const store = await openStore({ dataDir, databaseUrl: null });
    const bus = new LiveBus();
    const thumbnails = new ThumbnailStore();
    const metrics = new OpenRtmsMetrics({ bus });
    const runtime = createRuntime({
      ...creds,
      webhookPath: '/webhook',
      store,
      dataDir,
      client: { audio: { data_opt: DataOption.AUDIO_MULTI_STREAMS } },
      extraSinks: (info) => [new LiveSink(bus, info, { thumbnails, onDecodeError: () => metrics.decodeError() }), new MetricsSink(metrics)],
    });
    const { url: hookBase } = await runtime.app.listen(0, '127.0.0.1');
    const web = createWebApp({ store, bus, registry: runtime.registry, metrics, thumbnails, dataDir, apiToken: TOKEN });
    const url = await web.app.listen({ port: 0, host: '127.0.0.1' });
    // Publication times of transcript lines, as the bus sees them.
    const published = new Map<string, number>();
    bus.subscribe({ types: ['transcript'], deliver: (b) => b.forEach((m) => published.set((m as { text: string }).text, Date.now())) });
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS }); // a new empty profile per launch
    const emu = new Emulator({ ...creds, webhookUrl: `${hookBase}/webhook`, scenario: demoScenario(14) });
    mkdirSync('test-artifacts', { recursive: true });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await recordTranscriptLines(page);
      const requests: string[] = [];
      page.on('requestfailed', (r) => requests.push(`failed ${r.url()} ${r.failure()?.errorText}`));
      page.on('pageerror', (e) => requests.push(`page error: ${e.message}`));
      await page.goto(`${url}/?token=${TOKEN}`); // the server keeps the token in a cookie and redirects to /
      assert.equal(new URL(page.url()).search, '', 'the token left the address bar');
      await emu.start();
      const running = emu.run();

      // 1. The first transcript line is on the page within a second of its publication.
      const first = "Good morning everyone, let's start with the quarterly roadmap.";
      await page.locator('#transcript .line', { hasText: first }).waitFor({ timeout: 10_000 });
      const seenAt = await lineSeenAt(page, first);
      const pubAt = published.get(first);
      assert.ok(pubAt, 'the line went through the bus');
      assert.ok(seenAt, 'the page saw the line being added');
      assert.ok(seenAt - pubAt < 1000, `on the page ${seenAt - pubAt} ms after publication`);
      t.diagnostic(`first transcript line on the page ${seenAt - pubAt} ms after its publication`);

      // 2. Level meters move, and someone is highlighted as the active speaker.
      const widths = async () => page.$$eval('#people li .meter > div', (bars) => bars.map((b) => (b as HTMLElement).style.width).join(','));
      const samples = new Set<string>();
      for (let i = 0; i < 12; i++) {
        samples.add(await widths());
        await page.waitForTimeout(100);
      }
      assert.ok(samples.size >= 3, `meters moved: ${[...samples].join(' | ')}`);
      assert.ok([...samples].some((s) => /[1-9]\d*%/.test(s)), 'some meter shows a level above zero');
      await page.locator('#people li.speaking').first().waitFor({ timeout: 5000 });

      // 3. A thumbnail of the camera (H.264 keyframe → JPEG) when ffmpeg is available.
      if (existsSync('/usr/bin/ffmpeg')) await page.locator('#thumbs figure[data-kind="video"]:not([hidden]) img').waitFor({ timeout: 8000 });
      await page.locator('#transcript .line').nth(2).waitFor({ timeout: 10_000 }); // a few lines for the picture
      await page.screenshot({ path: 'test-artifacts/live-dashboard.png' });
      if (process.env.OPENRTMS_UPDATE_SCREENSHOT) await page.screenshot({ path: 'docs/dashboard.png' });

      // 4. Search finds a spoken phrase.
      await page.fill('#q', '"quarterly roadmap"');
      await page.locator('#hits h3', { hasText: /^[1-9]\d* result\(s\)$/ }).waitFor({ timeout: 5000 });
      assert.match(await page.locator('#hits').innerText(), /quarterly roadmap/i);
      await page.screenshot({ path: 'test-artifacts/live-dashboard-search.png' });
      await page.fill('#q', '');

      // 5. After the meeting: the mixed recording downloads and plays in the page.
      await running;
      const mixedLink = page.locator('#files a[href$="audio/mixed.wav"]');
      // The page refreshes its file list 1.5 s after the end and every 4 s; 20 s leaves room for a loaded CI machine.
      await mixedLink.waitFor({ timeout: 20_000 }).catch(async (err: Error) => {
        const files = await page.locator('#files').innerHTML().catch((e: Error) => e.message);
        const onDisk = await page.evaluate(async () => (await fetch(`${location.origin}/api/streams`)).text()).catch((e: Error) => e.message);
        throw new Error(`${err.message}\n#files: ${files}\n/api/streams: ${onDisk.slice(0, 400)}\n${requests.join('\n')}`);
      });
      const href = (await mixedLink.first().getAttribute('href'))!;
      const wav = await page.request.get(`${url}${href}`);
      assert.equal(wav.status(), 200);
      assert.equal(wav.headers()['content-type'], 'audio/wav');
      const body = await wav.body();
      assert.equal(body.toString('ascii', 0, 4), 'RIFF');
      const duration = await page.evaluate(async (src) => {
        const a = new Audio(src);
        await new Promise((resolve, reject) => {
          a.onloadedmetadata = resolve;
          a.onerror = () => reject(new Error(`audio error ${a.error?.code}`));
        });
        return a.duration;
      }, href);
      assert.ok(duration > 10, `the browser plays ${duration} s of audio`);
      await page.screenshot({ path: 'test-artifacts/live-dashboard-ended.png' });
    } finally {
      await browser.close();
      await emu.close();
      await runtime.shutdown();
      await web.close();
      metrics.close();
      bus.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
