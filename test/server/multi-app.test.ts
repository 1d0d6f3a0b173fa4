import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { postSigned, validateEndpoint } from '../../src/emulator/webhook-sender.js';
import { openStore } from '../../src/store/open.js';
import { createRuntime, type Runtime } from '../../src/server/runtime.js';
import type { AppConfig } from '../../src/config/index.js';

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const meetingsApp: AppConfig = { name: 'meetings', products: ['meeting', 'webinar'], clientId: 'app-a-client', clientSecret: 'app-a-secret', secretToken: 'app-a-token' };
const sdkApp: AppConfig = { name: 'videosdk', products: ['session'], clientId: 'sdk-key-b', clientSecret: 'sdk-secret-b', secretToken: 'app-b-token' };
const quiet = { info() {}, warn() {}, error() {} };

async function serve(apps: AppConfig[]): Promise<{ runtime: Runtime; url: string; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-apps-'));
  dirs.push(dataDir);
  const store = await openStore({ dataDir, databaseUrl: null });
  const runtime = createRuntime({ apps, webhookPath: '/webhook', store, dataDir, logger: quiet });
  const { url } = await runtime.app.listen(0, '127.0.0.1');
  cleanups.push(() => runtime.shutdown());
  return { runtime, url, dataDir };
}

describe('one server for every app', () => {
  it('a Phone call, a webinar (webinar_uuid) and a Video SDK session, three apps, recorded side by side by one serve', async () => {
    const phoneApp: AppConfig = { name: 'phone', products: ['phone'], clientId: 'phone-client', clientSecret: 'phone-secret', secretToken: 'phone-token' };
    const { runtime, url, dataDir } = await serve([meetingsApp, sdkApp, phoneApp]);
    const emulators = ([['webinar', meetingsApp], ['phone', phoneApp], ['session', sdkApp]] as const).map(
      ([product, app], i) =>
        new Emulator({ clientId: app.clientId, clientSecret: app.clientSecret, secretToken: app.secretToken, webhookUrl: `${url}/webhook`, product, scenario: demoScenario(3), fast: true, seed: 10 + i }),
    );
    await Promise.all(emulators.map((e) => e.start()));
    cleanups.push(...emulators.map((e) => () => e.close()));
    const summaries = await Promise.all(emulators.map((e) => e.run()));
    for (const s of summaries) {
      assert.equal(s.connections.signaling, 1);
      assert.equal(s.connections.rejected_signature, 0, 'each stream joined with its own app credentials');
      assert.equal(s.missed.audio, 0);
    }
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && runtime.registry.list().filter((s) => s.state === 'closed').length < 3) await new Promise((r) => setTimeout(r, 50));
    for (const [i, product] of (['webinar', 'phone', 'session'] as const).entries()) {
      const stream = emulators[i].streams[0];
      const id = stream.id.rtmsStreamId;
      const payload = emulators[i].startPayload(stream);
      if (product === 'webinar') assert.equal(payload.webinar_uuid, stream.id.meetingUuid, 'the webinar payload carries webinar_uuid');
      if (product === 'phone') assert.equal(payload.call_id, stream.id.meetingUuid, 'the phone payload carries call_id');
      const status = runtime.registry.list().find((s) => s.rtmsStreamId === id);
      assert.equal(status?.product, product);
      assert.equal(status?.meetingUuid, stream.id.meetingUuid);
      assert.equal(status?.frames.audio, summaries[i].sent.audio, `${product}: every audio frame`);
      const dir = join(dataDir, 'recordings', id);
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      assert.equal(manifest.product, product);
      assert.ok(existsSync(join(dir, 'audio', 'mixed.wav')), `${product}: audio recorded`);
      if (product === 'phone') assert.equal(summaries[i].sent.video, 0, 'a call is voice only');
      else assert.ok(summaries[i].sent.video > 0);
      const stored = await runtime.store.getStream(id);
      assert.equal(stored?.product, product);
      assert.equal(stored?.meetingUuid, stream.id.meetingUuid);
    }
    assert.equal(runtime.alerts.list().length, 0);
  });

  it('two apps, two emulators, one webhook URL: both streams recorded side by side, each joined with its own app', async () => {
    const { runtime, url, dataDir } = await serve([meetingsApp, sdkApp]);
    const emuA = new Emulator({ clientId: meetingsApp.clientId, clientSecret: meetingsApp.clientSecret, secretToken: meetingsApp.secretToken, webhookUrl: `${url}/webhook`, product: 'meeting', scenario: demoScenario(3), fast: true, seed: 1 });
    const emuB = new Emulator({ clientId: sdkApp.clientId, clientSecret: sdkApp.clientSecret, secretToken: sdkApp.secretToken, webhookUrl: `${url}/webhook`, product: 'session', scenario: demoScenario(3), fast: true, seed: 2 });
    await Promise.all([emuA.start(), emuB.start()]);
    cleanups.push(() => emuA.close(), () => emuB.close());
    // Each app validates the URL with its own token.
    assert.equal(await validateEndpoint(`${url}/webhook`, meetingsApp.secretToken), true);
    assert.equal(await validateEndpoint(`${url}/webhook`, sdkApp.secretToken), true);
    const [a, b] = await Promise.all([emuA.run(), emuB.run()]);
    for (const s of [a, b]) {
      assert.equal(s.connections.signaling, 1);
      assert.equal(s.connections.rejected_signature, 0, 'joined with the right app credentials');
      assert.ok(s.sent.audio > 0);
    }
    const idA = emuA.streams[0].id.rtmsStreamId;
    const idB = emuB.streams[0].id.rtmsStreamId;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && runtime.registry.list().filter((s) => s.state === 'closed').length < 2) await new Promise((r) => setTimeout(r, 50));
    const products = new Map(runtime.registry.list().map((s) => [s.rtmsStreamId, s.product]));
    assert.equal(products.get(idA), 'meeting');
    assert.equal(products.get(idB), 'session');
    const recorded = readdirSync(join(dataDir, 'recordings'));
    assert.ok(recorded.includes(idA) && recorded.includes(idB), recorded.join(', '));
    assert.equal(runtime.alerts.list().length, 0);
  });

  it('a webhook signed with an unknown token is refused 401; one for a product its app does not serve is refused 403 with an alert', async () => {
    const { runtime, url } = await serve([meetingsApp, sdkApp]);
    const body = JSON.stringify({ event: 'meeting.rtms_started', event_ts: Date.now(), payload: { meeting_uuid: 'm1', rtms_stream_id: 's1', server_urls: 'ws://127.0.0.1:1' } });
    const unknown = await postSigned(`${url}/webhook`, 'someone-elses-token', body);
    assert.equal(unknown.status, 401);
    assert.match(unknown.text, /none of the 2 configured apps/);
    assert.equal(await validateEndpoint(`${url}/webhook`, 'someone-elses-token'), false);
    const session = JSON.stringify({ event: 'session.rtms_started', event_ts: Date.now(), payload: { session_id: 'v1', rtms_stream_id: 's2', server_urls: 'ws://127.0.0.1:1' } });
    const mismatch = await postSigned(`${url}/webhook`, meetingsApp.secretToken, session);
    assert.equal(mismatch.status, 403);
    assert.match(JSON.parse(mismatch.text).error.message, /signed with the secret token of app "meetings".*another app's secret token/);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(runtime.registry.list().length, 0, 'no stream joined');
    const alerts = runtime.alerts.list();
    assert.equal(alerts[0].code, 'WEBHOOK_APP_MISMATCH');
    assert.equal(alerts[0].app, 'meetings');
  });

  it('a handshake refused for bad app credentials becomes an alert with guidance', async () => {
    // The server's "videosdk" app has the wrong secret: the emulator refuses the signature.
    const { runtime, url } = await serve([meetingsApp, { ...sdkApp, clientSecret: 'not-the-sdk-secret' }]);
    const emu = new Emulator({ clientId: sdkApp.clientId, clientSecret: sdkApp.clientSecret, secretToken: sdkApp.secretToken, webhookUrl: `${url}/webhook`, product: 'session', scenario: demoScenario(2), fast: true, waitForClientMs: 500 });
    await emu.start();
    cleanups.push(() => emu.close());
    await emu.run();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && runtime.alerts.list().length === 0) await new Promise((r) => setTimeout(r, 50));
    const [alert] = runtime.alerts.list();
    assert.ok(alert, 'an alert was raised');
    assert.equal(alert.code, 'RTMS_SIGNATURE_REJECTED');
    assert.equal(alert.app, 'videosdk');
    assert.equal(alert.product, 'session');
    assert.equal(typeof alert.status, 'number');
    assert.match(alert.guidance.causes[0], /Video SDK streams need the SDK key, not the OAuth client id/);
    assert.doesNotMatch(JSON.stringify(alert), /not-the-sdk-secret|sdk-secret-b/);
  });
});
