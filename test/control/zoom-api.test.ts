import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { ZoomApi, ZoomApiError, controlPath, encodeZoomId } from '../../src/control/zoom-api.js';

const creds = { clientId: 'rest-client', clientSecret: 'rest-secret', secretToken: 'rest-token' };

describe('Zoom REST control: ids in paths', () => {
  it('encodes UUIDs with "/" or "+" twice, others once', () => {
    assert.equal(encodeZoomId('4444AAAiAAAAAiAiAiiAii=='), '4444AAAiAAAAAiAiAiiAii%3D%3D');
    assert.equal(encodeZoomId('/ajXp112QmuoKj4854875=='), '%252FajXp112QmuoKj4854875%253D%253D');
    assert.equal(encodeZoomId('ab+cd//ef'), 'ab%252Bcd%252F%252Fef');
    assert.equal(controlPath('meeting', '123'), '/v2/live_meetings/123/rtms_app/status');
    assert.equal(controlPath('webinar', '123'), '/v2/live_meetings/123/rtms_app/status');
    assert.equal(controlPath('session', 's1'), '/v2/videosdk/sessions/s1/rtms_app/status');
    assert.equal(controlPath('phone', 'c1'), '/v2/phone/calls/c1/rtms_app/status');
  });
});

describe('Zoom REST control against the emulator: OAuth token cache', () => {
  let emu: Emulator;
  let clock = 1_000_000;
  before(async () => {
    // Meetings with "/" and "+" in their UUIDs exercise the double encoding end to end.
    emu = new Emulator({ ...creds, onWebhook: () => {}, scenario: demoScenario(30), meetings: 3, onDemand: true, seed: 7 });
    await emu.start();
    void emu.run();
  });
  after(() => emu.close());
  const api = (over: Partial<ConstructorParameters<typeof ZoomApi>[0]> = {}) =>
    new ZoomApi({ accountId: 'acc', clientId: creds.clientId, clientSecret: creds.clientSecret, baseUrl: emu.httpUrl, oauthUrl: `${emu.httpUrl}/oauth/token`, now: () => clock, ...over });

  it('one token for several calls; a new one after expiry; a 401 refreshes once and retries', async () => {
    const z = api();
    const uuid = emu.streams[0].id.meetingUuid;
    const before = emu.rest.counters.tokens;
    await z.controlStream('meeting', uuid, 'start', creds.clientId);
    await assert.rejects(z.controlStream('meeting', uuid, 'start', creds.clientId), /400 code 3000: RTMS is already started/);
    await assert.rejects(z.controlStream('meeting', 'no-such-meeting', 'stop'), (e: ZoomApiError) => e.status === 404 && /code 3001/.test(e.message));
    assert.equal(z.tokenRequests, 1);
    assert.equal(emu.rest.counters.tokens - before, 1);
    // The token's lifetime (3599 s) has passed on the client's clock: it asks for a new one first.
    clock += 3600_000;
    await assert.rejects(z.controlStream('meeting', 'no-such-meeting', 'stop'), /404/);
    assert.equal(z.tokenRequests, 2);
    // Zoom revoked the token early: the 401 makes it fetch a new one and retry, once.
    emu.rest.revokeTokens();
    await assert.rejects(z.controlStream('meeting', 'no-such-meeting', 'stop'), /404/);
    assert.equal(z.tokenRequests, 3);
    assert.equal(emu.rest.counters.tokens - before, 3);
  });

  it('concurrent calls share one token request', async () => {
    const z = api();
    await Promise.allSettled([1, 2, 3, 4].map(() => z.controlStream('meeting', 'nope', 'stop')));
    assert.equal(z.tokenRequests, 1);
  });

  it('ids with "/" and "+" reach the emulator double-encoded', async () => {
    const z = api();
    const weird = emu.streams.find((s) => /[/+]/.test(s.id.meetingUuid));
    assert.ok(weird, `seed 7 should give a UUID with / or + (${emu.streams.map((s) => s.id.meetingUuid).join(', ')})`);
    await z.controlStream('meeting', weird.id.meetingUuid, 'start', creds.clientId);
    await assert.rejects(z.controlStream('meeting', weird.id.meetingUuid, 'start', creds.clientId), /already started/);
  });

  it('errors are one line with Zoom\'s code and message; bad credentials and bad actions', async () => {
    await assert.rejects(api({ clientSecret: 'wrong' }).controlStream('meeting', 'x', 'stop'), (e: ZoomApiError) => e.code === 'ZOOM_API_AUTH_FAILED' && /401 invalid_client: Invalid client_id or client_secret/.test(e.message) && !e.message.includes('wrong'));
    await assert.rejects(api({ baseUrl: 'http://127.0.0.1:1', oauthUrl: 'http://127.0.0.1:1/oauth/token' }).controlStream('meeting', 'x', 'stop'), (e: ZoomApiError) => e.code === 'ZOOM_API_UNREACHABLE');
    const z = api();
    const r = await z.request('PATCH', `/v2/live_meetings/${encodeZoomId(emu.streams[2].id.meetingUuid)}/rtms_app/status`, { action: 'jump' }).catch((e: Error) => e);
    assert.ok(r instanceof ZoomApiError && r.status === 400 && /Invalid action/.test(r.message) && !r.message.includes('\n'));
    const wrongApp = await z.controlStream('meeting', emu.streams[2].id.meetingUuid, 'start', 'other-app').catch((e: Error) => e);
    assert.ok(wrongApp instanceof ZoomApiError && /not installed/.test(wrongApp.message));
    const raw = await fetch(`${emu.httpUrl}/v2/live_meetings/x/rtms_app/status`, { method: 'PATCH', headers: { authorization: 'Bearer made-up' }, body: '{}' });
    assert.equal(raw.status, 401);
  });
});
