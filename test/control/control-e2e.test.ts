import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { postSigned } from '../../src/emulator/webhook-sender.js';
import { openStore } from '../../src/store/open.js';
import { createRuntime } from '../../src/server/runtime.js';
import { ZoomStreamControl } from '../../src/control/service.js';
import type { AppConfig } from '../../src/config/index.js';

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'openrtms-control-'));
  dirs.push(d);
  return d;
};
const app: AppConfig = { name: 'meetings', products: ['meeting', 'webinar'], clientId: 'ctl-client', clientSecret: 'ctl-secret', secretToken: 'ctl-token' };
const quiet = { info() {}, warn() {}, error() {} };

async function until<T>(what: string, f: () => T | undefined | false, ms = 10_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/openrtms.js', ...args], { env: { PATH: process.env.PATH } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('on-demand control: serve + emulator', () => {
  it('control start (CLI) → started webhook → recorded; pause, resume, stop through POST /api/control', async () => {
    const dataDir = tmp();
    const store = await openStore({ dataDir, databaseUrl: null });
    // The emulator is created first (its REST URL is the control's baseUrl); its webhook URL is set once serve listens.
    let webhookUrl = '';
    const emu = new Emulator({ ...app, onWebhook: async (body) => {
      const r = await postSigned(webhookUrl, app.secretToken, JSON.stringify(body));
      if (r.status !== 200) throw new Error(`webhook answered ${r.status}`);
    }, scenario: demoScenario(60), onDemand: true });
    await emu.start();
    cleanups.push(() => emu.close());
    const control = new ZoomStreamControl({ accountId: 'acc', clientId: app.clientId, clientSecret: app.clientSecret, baseUrl: emu.httpUrl, oauthUrl: `${emu.httpUrl}/oauth/token` }, [app]);
    const runtime = createRuntime({ apps: [app], control, webhookPath: '/webhook', store, dataDir, logger: quiet });
    const { url } = await runtime.app.listen(0, '127.0.0.1');
    cleanups.push(() => runtime.shutdown());
    webhookUrl = `${url}/webhook`;
    const webhooks: string[] = [];
    emu.on('webhook', (b) => webhooks.push(String(b.event)));
    void emu.run();
    const meeting = emu.streams[0];
    const uuid = meeting.id.meetingUuid;
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(webhooks, [], 'no RTMS before a start call');
    assert.equal(runtime.registry.list().length, 0);

    // Bad input first: one line, exit 2.
    const bad = await cli(['control', 'start', '--meeting', uuid, '--session', 'x', '--zoom-api', emu.httpUrl]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    const badAction = await cli(['control', 'jump', '--meeting', uuid]);
    assert.equal(badAction.code, 2);
    assert.match(badAction.stderr, /expected one of start, stop, pause, resume/);

    const cfg = join(dataDir, 'ctl.json');
    writeFileSync(cfg, JSON.stringify({ apps: [app] }));
    const started = await cli(['control', 'start', '--meeting', uuid, '--zoom-api', emu.httpUrl, '--config', cfg]);
    assert.equal(started.code, 0, started.stderr);
    await until('the started webhook', () => webhooks.length > 0);
    assert.deepEqual(webhooks, ['meeting.rtms_started']);
    const entry = await until('the stream to be recorded', () => runtime.registry.get(meeting.id.rtmsStreamId));
    const streamStates: number[] = [];
    entry.client.on('streamState', (s) => streamStates.push(s.state));
    await until('media to flow', () => entry.client.stats.frames.audio > 10);

    const post = (body: unknown) => fetch(`${url}/api/control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const invalid = await post({ product: 'meeting', id: uuid, action: 'explode' });
    assert.equal(invalid.status, 400);
    assert.match(((await invalid.json()) as { error: { message: string } }).error.message, /^action: expected one of/);
    assert.equal((await post({ product: 'meeting', id: 'no-such-meeting', action: 'pause' })).status, 404);

    assert.equal((await post({ product: 'meeting', id: uuid, action: 'pause' })).status, 200);
    await until('PAUSED', () => streamStates.includes(5));
    assert.equal(meeting.paused, true);
    await new Promise((r) => setTimeout(r, 100));
    const frozen = entry.client.stats.frames.audio;
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(entry.client.stats.frames.audio - frozen <= 1, 'no media while paused');

    assert.equal((await post({ product: 'meeting', id: uuid, action: 'resume' })).status, 200);
    await until('RESUMED', () => streamStates.includes(6));
    await until('media again', () => entry.client.stats.frames.audio > frozen + 10);

    assert.equal((await post({ product: 'meeting', id: uuid, action: 'stop' })).status, 200);
    await until('the stopped webhook', () => (webhooks as string[]).includes('meeting.rtms_stopped'));
    const closed = await entry.client.whenClosed();
    assert.equal(closed.stopReason, 25, 'TERMINATED with MANUAL_API_TRIGGERED');
    assert.equal(meeting.report().ended_by, 'api');
  });
});
