/** The dashboard shows a speech-to-text track beside Zoom's transcript, live (headless Chromium). */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { createRuntime } from '../../src/server/runtime.js';
import { openStore } from '../../src/store/open.js';
import { parseTranscription } from '../../src/intelligence/stt/config.js';
import { startDeepgramStandIn } from '../helpers/stt/deepgram-server.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('dashboard: speech-to-text tracks', { skip: existsSync(CHROMIUM) ? false : `Chromium not installed at ${CHROMIUM} (.ci/run installs it)` }, () => {
  it('a Deepgram track appears beside Zoom\'s transcript while the meeting runs, with its own exports', { timeout: 40_000 }, async () => {
    const { chromium } = await import('playwright-core');
    const dg = await startDeepgramStandIn({ apiKey: 'k' });
    cleanups.push(() => dg.close());
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-tracks-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const creds = { clientId: 't', clientSecret: 't-secret', secretToken: 't-token' };
    const store = await openStore({ dataDir, databaseUrl: null });
    const runtime = createRuntime({ ...creds, webhookPath: '/webhook', store, dataDir, transcription: parseTranscription([{ provider: 'deepgram', apiKey: 'k', baseUrl: dg.url }]) });
    const { url } = await runtime.app.listen(0, '127.0.0.1');
    cleanups.push(() => runtime.shutdown());
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    cleanups.push(() => browser.close());
    const emu = new Emulator({ ...creds, webhookUrl: `${url}/webhook`, scenario: demoScenario(6) });
    cleanups.push(() => emu.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${url}/`);
    await emu.start();
    const running = emu.run();
    const first = "Good morning everyone, let's start with the quarterly roadmap.";
    // Live: the provider's line arrives over the feed into its own panel, Zoom's into #transcript.
    const track = page.locator('#tracks [data-track="deepgram"]');
    await track.getByText(first).waitFor({ timeout: 15_000 });
    await page.locator('#transcript').getByText(first).waitFor({ timeout: 5000 });
    assert.match((await track.locator('.who').first().textContent()) ?? '', /^Ada$/);
    await running;
    // After a reload the panel is rebuilt from the API (transcriptSources + ?source=deepgram).
    await new Promise((r) => setTimeout(r, 1500));
    await page.reload();
    await page.locator('#streams [role="listitem"], #streams > *').first().click();
    await track.getByText(first).waitFor({ timeout: 10_000 });
    const vtt = await track.locator('a', { hasText: 'VTT' }).getAttribute('href');
    const res = await page.request.get(`${url}${vtt}`);
    assert.match(await res.text(), /^WEBVTT\n\n1\n.*\n<v Ada>Good morning/);
  });
});
