import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { createRuntime } from '../../src/server/runtime.js';
import { openStore } from '../../src/store/open.js';
import { lineSeenAt, recordTranscriptLines } from '../helpers/page-clock.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('dashboard in headless Chromium during an emulated meeting', { skip: existsSync(CHROMIUM) ? false : `Chromium not installed at ${CHROMIUM} (.ci/run installs it)` }, () => {
  it('shows the transcript within a second, finds a spoken phrase, and serves a playable recording', async (t) => {
    const { chromium } = await import('playwright-core');
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-browser-'));
    const creds = { clientId: 'b', clientSecret: 'b-secret', secretToken: 'b-token' };
    const store = await openStore({ dataDir, databaseUrl: null });
    const runtime = createRuntime({ ...creds, webhookPath: '/webhook', store, dataDir });
    const { url } = await runtime.app.listen(0, '127.0.0.1');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS }); // playwright gives each launch a new empty profile
    const emu = new Emulator({ ...creds, webhookUrl: `${url}/webhook`, scenario: demoScenario(12) });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      await recordTranscriptLines(page);
      await page.goto(`${url}/`);
      await emu.start();
      let sentAt = 0;
      emu.on('webhook', () => {});
      const running = emu.run();
      // The first line ends at ~4.3 s; note when the emulator's clock passes it, then wait for the page.
      const first = "Good morning everyone, let's start with the quarterly roadmap.";
      while (!sentAt) {
        if (emu.summary().sent.transcript > 0) sentAt = Date.now();
        else await new Promise((r) => setTimeout(r, 10));
      }
      await page.getByText(first).first().waitFor({ timeout: 5000 });
      const seenAt = await lineSeenAt(page, first);
      assert.ok(seenAt, 'the page saw the line being added');
      const delay = seenAt - sentAt;
      assert.ok(delay < 1000, `transcript appeared ${delay} ms after it was sent`);
      t.diagnostic(`first transcript line on the page ${delay} ms after the emulator sent it`);
      await new Promise((r) => setTimeout(r, 400)); // the store sink writes in 250 ms batches
      await page.fill('#q', '"quarterly roadmap"');
      await page.getByText('1 result(s)').waitFor({ timeout: 5000 });
      await running;
      await new Promise((r) => setTimeout(r, 1200));
      mkdirSync('test-artifacts', { recursive: true });
      await page.fill('#q', '');
      await page.screenshot({ path: 'test-artifacts/dashboard.png' });
      if (process.env.OPENRTMS_UPDATE_SCREENSHOT) await page.screenshot({ path: 'docs/dashboard.png' });
      const href = await page.locator('a[href$="audio/mixed.wav"]').first().getAttribute('href');
      assert.ok(href, 'a link to the mixed recording');
      const wav = await page.request.get(`${url}${href}`);
      assert.equal(wav.headers()['content-type'], 'audio/wav');
      const body = await wav.body();
      assert.equal(body.toString('ascii', 0, 4), 'RIFF');
      assert.ok(Math.abs(body.readUInt32LE(40) / 32 - 12_000) <= 40, 'the recording spans the 12 s meeting');
    } finally {
      await browser.close();
      await emu.close();
      await runtime.shutdown();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
