import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const children: ChildProcess[] = [];
const dirs: string[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function start(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['bin/openrtms.js', ...args], { env: { ...process.env, ...env } });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const waitFor = async (re: RegExp, ms = 20_000) => {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      const m = re.exec(out);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${re}; stdout: ${out}; stderr: ${err}`);
  };
  return { child, exited, waitFor, output: () => ({ out, err }) };
}

const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'openrtms-'));
  dirs.push(d);
  return d;
};
const get = async (url: string) => {
  const r = await fetch(url);
  return { status: r.status, body: r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text() };
};

describe('serve + emulate as separate processes', () => {
  it('every stream of a multi-product run connects exactly once despite duplicate and out-of-order webhooks', async () => {
    const env = { ZM_RTMS_CLIENT: 'e2e-client', ZM_RTMS_SECRET: 'e2e-secret', ZOOM_SECRET_TOKEN: 'e2e-token' };
    const serve = start(['serve', '--port', '0', '--data-dir', tmp()], env);
    const [, url] = await serve.waitFor(/webhook (http:\/\/127\.0\.0\.1:\d+)\/webhook/);
    const emulate = start(['emulate', '--webhook-url', `${url}/webhook`, '--port', '0', '--meetings', '4', '--product', 'meeting,webinar,session,contact_center', '--duration', '6', '--fault', 'duplicate-webhook:3', '--fault', 'out-of-order', '--json'], env);
    assert.equal(await emulate.exited, 0, emulate.output().err);
    const summary = JSON.parse(emulate.output().out);
    assert.equal(summary.streams, 4);
    assert.equal(summary.connections.signaling, 4, 'one connection per stream');
    assert.equal(summary.connections.kicked, 0);
    assert.equal(summary.connections.rejected_finished, 0, 'the late start was not acted on');
    assert.equal(summary.connections.rejected_signature, 0);
    assert.equal(summary.missed.transcript, 0);
    assert.equal(summary.webhooks.sent, 4 * (3 + 3 + 1));
    // Everything the emulator delivered is in the store, searchable.
    await new Promise((r) => setTimeout(r, 800));
    const { body: list } = await get(`${url}/api/streams`);
    assert.equal(list.streams.length, 4);
    const { body: hits } = await get(`${url}/api/search?q=${encodeURIComponent('"quarterly roadmap"')}`);
    assert.equal(hits.hits.length, 4, 'the first spoken line is found in every stream');
    const id = list.streams[0].rtmsStreamId;
    const vtt = await get(`${url}/api/streams/${encodeURIComponent(id)}/transcript?format=vtt`);
    assert.match(vtt.body, /^WEBVTT\n\n1\n00:00:0\d\.\d{3} --> 00:00:0\d\.\d{3}\n<v Ada>Good morning everyone/);
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exited, 0);
  });

  it('serve: missing credentials are a one-line error with exit 2', async () => {
    const p = start(['serve', '--port', '0'], { ZM_RTMS_CLIENT: '', ZOOM_CLIENT_ID: '', ZM_RTMS_SECRET: '', ZOOM_SECRET_TOKEN: '' });
    assert.equal(await p.exited, 2);
    assert.match(p.output().err.trim(), /^openrtms serve: ZM_RTMS_CLIENT is not set/);
    assert.equal(p.output().err.trim().split('\n').length, 1);
  });
});

describe('openrtms demo (npm start)', () => {
  it('serves the dashboard, records the meeting, keeps running after it ends, stops cleanly', async () => {
    const dir = tmp();
    const demo = start(['demo', '--port', '0', '--duration', '6', '--data-dir', dir], {});
    const [, url] = await demo.waitFor(/Dashboard: (http:\/\/127\.0\.0\.1:\d+)\//);
    const page = await get(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>openrtms<\/title>/);
    await demo.waitFor(/Meetings ended/, 30_000);
    const { body } = await get(`${url}/api/streams`);
    assert.equal(body.streams.length, 1);
    const id = body.streams[0].rtmsStreamId;
    const { body: t } = await get(`${url}/api/streams/${encodeURIComponent(id)}/transcript`);
    assert.equal(t.transcript[0].text, "Good morning everyone, let's start with the quarterly roadmap.");
    assert.equal((await get(`${url}/healthz`)).status, 200, 'still up after the meeting');
    // The recording: listed, downloadable as a playable WAV as long as the meeting, seekable.
    const files = `${url}/api/streams/${encodeURIComponent(id)}/files`;
    // The recording is finalised once the stream's last media has been read (just after the meeting ends).
    let paths: string[] = [];
    for (let i = 0; i < 50 && !paths.includes('transcript.vtt'); i++) {
      if (i) await new Promise((r) => setTimeout(r, 100));
      paths = (await get(files)).body.files.map((f: { path: string }) => f.path);
    }
    for (const p of ['manifest.json', 'audio/mixed.wav', 'transcript.vtt']) assert.ok(paths.includes(p), p);
    const wav = await fetch(`${files}/audio/mixed.wav`);
    assert.equal(wav.headers.get('content-type'), 'audio/wav');
    const bytes = Buffer.from(await wav.arrayBuffer());
    assert.equal(bytes.toString('ascii', 0, 4), 'RIFF');
    assert.ok(Math.abs(bytes.readUInt32LE(40) / 32 - 6000) <= 40, 'about 6 s of 16 kHz audio');
    const part = await fetch(`${files}/audio/mixed.wav`, { headers: { range: 'bytes=0-43' } });
    assert.equal(part.status, 206);
    assert.equal((await part.arrayBuffer()).byteLength, 44);
    assert.equal((await get(`${files}/..%2F..%2Fopenrtms.db`)).status, 400);
    assert.equal((await get(`${url}/api/streams/nope/files`)).status, 404);
    demo.child.kill('SIGINT');
    assert.equal(await demo.exited, 0);
    assert.match(demo.output().out, /stopped\./);
  });
});
