/**
 * The dashboard's notes and summary panel in headless Chromium: live notes appear while the meeting
 * runs (live feed, no reload), the final summary replaces them when it ends, and meeting text is
 * shown as text (an HTML tag said in the meeting stays literal).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { LlmStandin } from './standins.js';
import { runMeeting, scriptedMeeting, serveWithLlm, type Served } from './meeting.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('summary panel in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `Chromium not installed at ${CHROMIUM} (.ci/run installs it)` }, () => {
  it('shows live notes during the meeting, then the final summary, as text', async () => {
    const { chromium } = await import('playwright-core');
    const llm = await new LlmStandin({ provider: 'openai', apiKey: 'sk-ui', model: 'gpt-ui' }).listen();
    cleanups.push(() => llm.close());
    const served: Served = await serveWithLlm(llm, {}, { notesEveryMinutes: 0.03 });
    cleanups.push(() => served.close());
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    cleanups.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${served.url}/`);
    const scenario = scriptedMeeting(9);
    scenario.timeline.push({ at: 7.2, type: 'speak', user_id: 101, text: 'We agreed <b>bold</b> stays text.', duration: 0.8 });
    let ended = false;
    const run = runMeeting(served.url, 9, scenario).then((r) => ((ended = true), r));
    const panel = page.locator('#summary-panel');
    // Live notes, while the meeting still runs (the page selects the first meeting by itself).
    await page.locator('#summary-panel[data-state="notes"]').waitFor({ timeout: 8000 });
    assert.equal(ended, false, 'notes were shown before the meeting ended');
    await page.locator('#summary .summary-notes', { hasText: 'Alice: We decided to launch on March 3.' }).waitFor({ timeout: 8000 });
    await run;
    await page.locator('#summary-panel[data-state="final"]').waitFor({ timeout: 10_000 });
    assert.deepEqual(await page.locator('#summary .summary-decisions li').allTextContents(), ['We decided to launch on March 3.', 'We agreed <b>bold</b> stays text.']);
    assert.deepEqual(await page.locator('#summary .summary-actions li').allTextContents(), ['I will send the deck by Friday. — Bob (due Friday)']);
    assert.equal(await page.locator('#summary b').count(), 0, 'meeting text is never parsed as HTML');
    assert.match((await panel.textContent()) ?? '', /final · gpt-ui/);
    // A reload shows the stored summary (GET /api/streams/:id/summary).
    await page.reload();
    await page.locator('#summary-panel[data-state="final"]').waitFor({ timeout: 8000 });
  });
});
