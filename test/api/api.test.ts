import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { LiveBus } from '../../src/live/bus.js';
import { LiveSink } from '../../src/live/sink.js';
import { ThumbnailStore } from '../../src/live/thumbnails.js';
import type { LiveMessage } from '../../src/live/types.js';
import { OpenRtmsMetrics } from '../../src/metrics/metrics.js';
import { createWebApp, type WebApp } from '../../src/server/web.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';

const TOKEN = 'api-token-123';
const ID = 'str/eam+1==';
const enc = encodeURIComponent(ID);
const auth = { authorization: `Bearer ${TOKEN}` };
let dir: string;
let store: Store;
let bus: LiveBus;
let thumbs: ThumbnailStore;
let web: WebApp;
let metrics: OpenRtmsMetrics;
const wav = Buffer.alloc(44 + 3200, 1);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openrtms-api-'));
  store = await openStore({ dataDir: dir, databaseUrl: null });
  await store.write({
    stream: { rtmsStreamId: ID, meetingUuid: 'mtg-1', product: 'meeting', startedAt: 1_000_000 },
    participants: [{ userId: 7, userName: 'Ann', firstSeen: 1_000_100 }],
    transcript: [
      { userId: 7, userName: 'Ann', text: 'Welcome to the quarterly roadmap review.', timestamp: 1_002_000, startTime: 1_001_000, endTime: 1_003_500 },
      { userId: 8, userName: 'Bob', text: 'Thanks, glad to be here.', timestamp: 1_005_000 },
    ],
    chat: [{ userId: 8, userName: 'Bob', text: 'slides please', timestamp: 1_004_000 }],
    events: [{ type: 'participant_join', timestamp: 1_000_100, userId: 7, userName: 'Ann' }],
  });
  const rec = join(dir, 'recordings', 'str%2Feam%2B1%3D%3D');
  mkdirSync(join(rec, 'audio'), { recursive: true });
  wav.write('RIFF', 0, 'ascii');
  writeFileSync(join(rec, 'audio', 'mixed.wav'), wav);
  writeFileSync(join(rec, 'manifest.json'), '{}');
  writeFileSync(join(dir, 'secret.txt'), 'do not serve');
  bus = new LiveBus();
  thumbs = new ThumbnailStore();
  metrics = new OpenRtmsMetrics({ bus });
  web = createWebApp({ store, bus, thumbnails: thumbs, dataDir: dir, apiToken: TOKEN, metrics });
  await web.ready;
});
after(async () => {
  await web.close();
  metrics.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = auth) => web.app.inject({ method: 'GET', url, headers });

describe('auth', () => {
  it('401 JSON without a token or with a wrong one, on every API route', async () => {
    for (const url of ['/api/streams', `/api/streams/${enc}`, `/api/streams/${enc}/transcript`, '/api/search?q=x', `/api/streams/${enc}/files/audio/mixed.wav`, '/api/live']) {
      for (const headers of [{}, { authorization: 'Bearer nope' }] as Record<string, string>[]) {
        const r = await get(url, headers);
        assert.equal(r.statusCode, 401, url);
        assert.equal(r.json().error.code, 'UNAUTHORIZED');
      }
    }
  });
  it('accepts the Bearer header, ?token= and the dashboard cookie', async () => {
    assert.equal((await get('/api/streams')).statusCode, 200);
    assert.equal((await get(`/api/streams?token=${TOKEN}`, {})).statusCode, 200);
    assert.equal((await get('/api/streams', { cookie: `a=b; openrtms_token=${TOKEN}` })).statusCode, 200);
  });
  it('the dashboard asks for the token, then keeps it in an HttpOnly cookie', async () => {
    const bare = await get('/', {});
    assert.equal(bare.statusCode, 401);
    assert.match(bare.headers['content-type'] as string, /text\/html/);
    const r = await get(`/?token=${TOKEN}`, {});
    assert.equal(r.statusCode, 303);
    assert.match(String(r.headers['set-cookie']), /openrtms_token=api-token-123; HttpOnly; SameSite=Strict/);
    const page = await get('/', { cookie: `openrtms_token=${TOKEN}` });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<title>openrtms/);
    assert.equal((await get('/assets/app.js', {})).headers['content-type'], 'text/javascript; charset=utf-8');
  });
});

describe('REST routes', () => {
  it('lists and describes streams; 404 JSON for unknown ones and unknown routes', async () => {
    const list = (await get('/api/streams')).json();
    assert.equal(list.streams.length, 1);
    assert.equal(list.streams[0].rtmsStreamId, ID);
    assert.equal(list.streams[0].live, null);
    const one = (await get(`/api/streams/${enc}`)).json();
    assert.equal(one.meetingUuid, 'mtg-1');
    assert.deepEqual(one.participants.map((p: { userName: string }) => p.userName), ['Ann']);
    for (const url of ['/api/streams/nope', '/api/streams/nope/transcript', '/api/streams/nope/chat', '/api/streams/nope/files', '/api/streams/nope/thumbnail/video', '/api/nothing']) {
      const r = await get(url);
      assert.equal(r.statusCode, 404, url);
      assert.equal(r.json().error.code, 'NOT_FOUND', url);
    }
    const bad = await get('/api/streams?limit=0');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'BAD_REQUEST');
  });

  it('transcript as JSON, WebVTT and SRT with speakers and times relative to the stream start', async () => {
    const json = (await get(`/api/streams/${enc}/transcript`)).json();
    assert.deepEqual(json.transcript.map((s: { userName: string }) => s.userName), ['Ann', 'Bob']);
    const vtt = await get(`/api/streams/${enc}/transcript?format=vtt`);
    assert.match(vtt.headers['content-type'] as string, /^text\/vtt/);
    assert.match(vtt.body, /^WEBVTT\n\n1\n00:00:01\.000 --> 00:00:03\.500\n<v Ann>Welcome to the quarterly roadmap review\./);
    const srt = await get(`/api/streams/${enc}/transcript?format=srt`);
    assert.match(srt.headers['content-type'] as string, /^application\/x-subrip/);
    assert.match(srt.body, /^1\n00:00:01,000 --> 00:00:03,500\nAnn: Welcome/);
    assert.equal((await get(`/api/streams/${enc}/transcript?format=doc`)).statusCode, 400);
  });

  it('chat and search (400 for an empty query)', async () => {
    assert.deepEqual((await get(`/api/streams/${enc}/chat`)).json().chat.map((c: { text: string }) => c.text), ['slides please']);
    const hits = (await get('/api/search?q=%22quarterly%20roadmap%22')).json().hits;
    assert.equal(hits.length, 1);
    assert.equal(hits[0].speaker, 'Ann');
    assert.match(hits[0].snippet, /<mark>quarterly roadmap<\/mark>/);
    assert.equal((await get('/api/search?q=%20')).statusCode, 400);
  });

  it('serves recording files with their type and Range, and never outside the stream directory', async () => {
    const listing = (await get(`/api/streams/${enc}/files`)).json();
    assert.deepEqual(listing.files.map((f: { path: string }) => f.path).sort(), ['audio/mixed.wav', 'manifest.json']);
    const full = await get(`/api/streams/${enc}/files/audio/mixed.wav`);
    assert.equal(full.statusCode, 200);
    assert.equal(full.headers['content-type'], 'audio/wav');
    assert.equal(full.headers['accept-ranges'], 'bytes');
    assert.equal(full.rawPayload.length, wav.length);
    const part = await get(`/api/streams/${enc}/files/audio/mixed.wav`, { ...auth, range: 'bytes=0-3' });
    assert.equal(part.statusCode, 206);
    assert.equal(part.headers['content-range'], `bytes 0-3/${wav.length}`);
    assert.equal(part.body, 'RIFF');
    const tail = await get(`/api/streams/${enc}/files/audio/mixed.wav`, { ...auth, range: 'bytes=-10' });
    assert.equal(tail.rawPayload.length, 10);
    assert.equal((await get(`/api/streams/${enc}/files/audio/mixed.wav`, { ...auth, range: 'bytes=99999-' })).statusCode, 416);
    for (const evil of ['../../secret.txt', '..%2F..%2Fsecret.txt', '%2e%2e/%2e%2e/secret.txt', 'audio/../../../secret.txt']) {
      const r = await get(`/api/streams/${enc}/files/${evil}`);
      assert.ok(r.statusCode === 400 || r.statusCode === 404, `${evil} → ${r.statusCode}`);
      assert.doesNotMatch(r.body, /do not serve/);
    }
    const sneaky = await get(`/api/streams/..%2F..%2F/files/secret.txt`);
    assert.equal(sneaky.statusCode, 404);
  });

  it('a recording changing while it is listed is answered, never left hanging', { timeout: 5000 }, async () => {
    const rec = join(dir, 'recordings', 'busy');
    mkdirSync(join(rec, 'audio'), { recursive: true });
    writeFileSync(join(rec, 'audio', 'mixed.wav'), wav);
    writeFileSync(join(rec, 'manifest.json.tmp'), '{'); // the recorder's manifest, about to be renamed into place
    symlinkSync(join(rec, 'renamed-away'), join(rec, 'manifest.json')); // an entry gone between readdir and stat
    const listing = await get('/api/streams/busy/files');
    assert.equal(listing.statusCode, 200);
    assert.deepEqual(listing.json().files.map((f: { path: string }) => f.path), ['audio/mixed.wav']);
    symlinkSync('loop', join(rec, 'loop')); // unreadable for another reason than being gone: an error, answered
    const broken = await get('/api/streams/busy/files');
    assert.equal(broken.statusCode, 500);
    assert.equal(broken.json().error.code, 'FILES_UNAVAILABLE');
    assert.match(broken.json().error.message, /ELOOP/);
  });

  it('thumbnails: the latest image with its content type', async () => {
    thumbs.set(ID, 'video', { data: Buffer.from([0xff, 0xd8, 0xff, 0xe0]), contentType: 'image/jpeg', userId: '7', timestamp: Date.now() });
    const r = await get(`/api/streams/${enc}/thumbnail/video`);
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'image/jpeg');
    assert.equal(r.rawPayload.length, 4);
    assert.equal((await get(`/api/streams/${enc}/thumbnail/deskshare`)).statusCode, 404);
    assert.equal((await get(`/api/streams/${enc}/thumbnail/audio`)).statusCode, 400);
  });

  it('/metrics in Prometheus text format', async () => {
    const r = await get('/metrics', {});
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /^text\/plain/);
    for (const name of ['openrtms_active_streams', 'openrtms_frames_total', 'openrtms_live_subscribers', 'openrtms_event_loop_lag_seconds', 'openrtms_webhook_latency_seconds']) assert.match(r.body, new RegExp(`^# TYPE ${name} `, 'm'));
  });
});

describe('live feed', () => {
  it('SSE: snapshot first, then the stream\'s messages as data: lines; stored events as JSON on request', async () => {
    const json = await get(`/api/streams/${enc}/events`, { ...auth, accept: 'application/json' });
    assert.equal(json.json().events[0].type, 'participant_join');
    await web.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = web.app.server.address() as { port: number };
    const sink = new LiveSink(bus, { rtmsStreamId: ID, product: 'meeting', meetingUuid: 'mtg-1', startedAt: 1 });
    sink.onEvent({ type: 'participant_join', timestamp: 2, userId: 7, userName: 'Ann' });
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/api/streams/${enc}/events?token=${TOKEN}`, { signal: ac.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    const messages: LiveMessage[] = [];
    let text = '';
    setTimeout(() => sink.onTranscript({ userId: 7, userName: 'Ann', text: 'live words', timestamp: 3, receivedAt: 3 }), 50);
    while (!messages.some((m) => m.type === 'transcript')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      const blocks = text.split('\n\n');
      text = blocks.pop()!;
      for (const b of blocks) if (b.startsWith('data: ')) messages.push(JSON.parse(b.slice(6)));
    }
    ac.abort();
    assert.equal(messages[0].type, 'snapshot');
    assert.deepEqual((messages[0] as { participants: { userName: string }[] }).participants.map((p) => p.userName), ['Ann']);
    assert.equal((messages.at(-1) as { text: string }).text, 'live words');
    await sink.close();
    const notFound = await fetch(`http://127.0.0.1:${port}/api/streams/none/events?token=${TOKEN}`);
    assert.equal(notFound.status, 404);
  });

  it('WebSocket: hello, snapshot of the chosen stream, live messages; switching streams by command', async () => {
    const sinkA = new LiveSink(bus, { rtmsStreamId: 'A', product: 'meeting', meetingUuid: 'm-a', startedAt: 1 });
    const sinkB = new LiveSink(bus, { rtmsStreamId: 'B', product: 'webinar', meetingUuid: 'm-b', startedAt: 1 });
    const { port } = web.app.server.address() as { port: number };
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/live?stream=A`, { headers: auth });
    const got: Record<string, unknown>[] = [];
    const waitFor = async (pred: (m: Record<string, unknown>) => boolean) => {
      const deadline = Date.now() + 2000;
      while (!got.some(pred)) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(got)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    ws.on('message', (d) => got.push(JSON.parse(String(d))));
    await new Promise((r) => ws.once('open', r));
    await waitFor((m) => m.type === 'snapshot');
    assert.equal(got[0].type, 'hello');
    assert.deepEqual((got[0].live as string[]).sort(), ['A', 'B']);
    sinkB.onChat({ userId: 1, userName: 'Zed', text: 'not for A', timestamp: 1, receivedAt: 1 });
    sinkA.onChat({ userId: 1, userName: 'Ann', text: 'for A', timestamp: 1, receivedAt: 1 });
    await waitFor((m) => m.type === 'chat');
    assert.deepEqual(got.filter((m) => m.type === 'chat').map((m) => m.text), ['for A']);
    ws.send(JSON.stringify({ type: 'subscribe', streamId: 'B' }));
    await waitFor((m) => m.type === 'snapshot' && m.streamId === 'B');
    sinkB.onTranscript({ userId: 1, userName: 'Zed', text: 'now B', timestamp: 2, receivedAt: 2 });
    await waitFor((m) => m.type === 'transcript');
    assert.equal(got.find((m) => m.type === 'transcript')!.streamId, 'B');
    await sinkA.close();
    await waitFor((m) => m.type === 'stream' && m.action === 'ended');
    ws.terminate();
    await sinkB.close();
    const anon = new WebSocket(`ws://127.0.0.1:${port}/api/live`);
    anon.on('error', () => {});
    const status = await new Promise((r) => anon.once('unexpected-response', (_req, res) => r(res.statusCode)));
    assert.equal(status, 401);
    anon.terminate();
  });
});
