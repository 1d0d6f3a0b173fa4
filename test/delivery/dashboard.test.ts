import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../../src/server/runtime.js';
import { openStore } from '../../src/store/open.js';
import { Receiver } from './receiver.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('dashboard: Destinations panel', { skip: existsSync(CHROMIUM) ? false : `Chromium not installed at ${CHROMIUM}` }, () => {
  it('lists each destination with its figures (names as text only) and replays dead letters', async () => {
    const rx = new Receiver('dash-secret');
    await rx.listen();
    cleanups.push(() => rx.close());
    rx.behaviour = 'fail';
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-dlv-dash-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const store = await openStore({ dataDir, databaseUrl: null });
    const evil = '<img src=x onerror="window.pwned=1">';
    const runtime = createRuntime({
      clientId: 'c',
      clientSecret: 's',
      secretToken: 't',
      webhookPath: '/webhook',
      store,
      dataDir,
      apiToken: 'dash-token',
      destinations: [{ type: 'webhook', name: evil, url: rx.url, secret: 'dash-secret', maxAgeHours: 0.2 / 3600, timeoutMs: 2000 }],
      deliveryTuning: { initialBackoffMs: 50, maxBackoffMs: 100, pollMs: 20 },
    });
    cleanups.push(() => runtime.shutdown());
    const { url } = await runtime.app.listen(0, '127.0.0.1');
    runtime.delivery.emit({ id: 'evt_dash', type: 'stream.started', createdAt: 1, stream: { rtmsStreamId: 's', meetingUuid: 'm', product: 'meeting' }, data: {} });
    await rx.waitFor(() => runtime.delivery.list()[0].stats.failed === 1, 3000, 'a dead letter');
    rx.behaviour = 'ok';
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    await page.goto(`${url}/?token=dash-token`);
    const item = page.locator('#delivery li.destination');
    await item.waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#delivery-panel').isVisible(), true);
    const text = await item.innerText();
    assert.ok(text.includes(`${evil} · webhook`), text);
    assert.ok(text.includes(rx.url));
    assert.match(text, /queued 0 · delivered 0 · retried \d+ · failed 1/);
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined, 'the name is text, not markup');
    assert.equal(await item.locator('img').count(), 0);
    await item.locator('[data-action="replay"]').click();
    await rx.waitFor(() => rx.ids().has('evt_dash'), 5000, 'the replayed event');
    await item.locator('[data-action="replay"]').waitFor({ state: 'detached', timeout: 5000 });
    assert.equal(runtime.delivery.list()[0].stats.failed, 0);
  });
});
