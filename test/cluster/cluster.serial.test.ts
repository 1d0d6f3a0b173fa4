/**
 * The cluster end to end, against the real NATS JetStream (127.0.0.1:4222) and PostgreSQL
 * (127.0.0.1:5432): one gateway (`openrtms serve` with NATS_URL) and three workers
 * (`openrtms worker`) as separate processes, 12 emulated meetings. Mid-run one worker is killed
 * with SIGKILL, later NATS itself is restarted. Checked: every stream connected once at a time (no
 * kicks), streams spread over the workers, the dead worker's streams rejoined by the others within
 * 5 s, every delivered transcript line stored and in the recording, audio gaps no longer than the
 * outage, recordings complete and of the meeting's length.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import WebSocket from 'ws';
import { Emulator } from '../../src/emulator/emulator.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { connectCluster, destroyCluster, ClusterView } from '../../src/cluster/index.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { safeName } from '../../src/recorder/paths.js';
import { clusterEnv, reachable } from '../helpers/cluster-env.js';

const NATS_URL = process.env.OPENRTMS_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const PG_URL = process.env.OPENRTMS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_BIN = '/usr/sbin/nats-server';
const NATS_START = ['--start', '--oknodo', '--background', '--exec', NATS_BIN, '--', '-a', '127.0.0.1', '-p', '4222', '-js', '-sd', '/var/lib/nats-server', '-l', '/var/log/nats-server.log'];

const natsUp = await reachable(NATS_URL);
const pgUp = await reachable(PG_URL);
const skip = process.env.OPENRTMS_IN_CLONE_TEST === '1' ? 'run by the outer suite (this is the clean-clone test\'s nested run)' : !natsUp ? `NATS not reachable at ${NATS_URL}` : !pgUp ? `PostgreSQL not reachable at ${PG_URL}` : false;
/** Restarting NATS needs to be the machine's own server, started the documented way, and root. */
const canRestartNats = natsUp && existsSync(NATS_BIN) && process.getuid?.() === 0 && new URL(NATS_URL).port === '4222';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const children: ChildProcess[] = [];
const cleanups: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const f of cleanups.reverse()) await Promise.resolve(f()).catch(() => {});
});

async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms: number): Promise<T> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const v = await fn();
    if (v) return v;
    await sleep(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

const processes: { name: string; out: string; err: string }[] = [];
after(() => {
  // Every process's log, for when something fails (JSON lines, one per event).
  mkdirSync('test-artifacts', { recursive: true });
  for (const p of processes) writeFileSync(join('test-artifacts', `cluster-${p.name}.log`), `${p.out}\n--- stderr ---\n${p.err}`);
});

function start(name: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['bin/openrtms.js', ...args], { env: { ...process.env, ...env } });
  children.push(child);
  const p = { name, child, out: '', err: '' };
  processes.push(p);
  child.stdout!.on('data', (d) => (p.out += d));
  child.stderr!.on('data', (d) => (p.err += d));
  return p;
}

describe('cluster on NATS JetStream + PostgreSQL', { skip }, () => {
  it('12 meetings over 3 workers: spread, SIGKILL failover under 5 s, NATS restart, nothing lost', { timeout: 180_000 }, async () => {
    const run = `t${Date.now().toString(36)}${process.pid}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-cluster-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA "${run}"`);
    cleanups.push(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${run}" CASCADE`);
      await admin.end();
    });
    cleanups.push(() => destroyCluster(NATS_URL, run));
    const creds = { clientId: 'cl-client', clientSecret: 'cl-secret', secretToken: 'cl-token' };
    const env = clusterEnv({ run, natsUrl: NATS_URL, pgUrl: PG_URL, dataDir, creds }, { ZM_RTMS_LOG_FORMAT: 'json', ZM_RTMS_LOG_LEVEL: 'info' });

    const gateway = start('gateway', ['serve', '--port', '0'], env);
    const workers = ['w1', 'w2', 'w3'].map((id) => start(id, ['worker', '--id', id, '--max-streams', '12'], env));
    const url = (await waitFor('the gateway', () => /webhook (http:\/\/\S+\/webhook)/.exec(gateway.out)?.[1], 30_000).catch((e) => {
      throw new Error(`${e.message}\n${gateway.out}\n${gateway.err}`);
    })) as string;
    for (const w of workers) await waitFor(`worker ${w.name}`, () => w.out.includes(`openrtms worker ${w.name}`), 30_000).catch((e) => {
      throw new Error(`${e.message}\n${w.out}\n${w.err}`);
    });

    const cluster = await connectCluster({ url: NATS_URL, prefix: run, name: 'test-observer' });
    cleanups.push(() => cluster.close());
    const view = new ClusterView(cluster);
    await view.start();
    cleanups.push(() => view.stop());

    const emu = new Emulator({ ...creds, webhookUrl: url, meetings: 12, scenario: demoScenario(40), seed: 11, recordSent: true });
    await emu.start();
    cleanups.push(() => emu.close());
    const handshakes = new Map<string, number[]>();
    emu.on('handshake', (h) => {
      if (h.role === 'signaling' && h.statusCode === 0) handshakes.set(h.rtmsStreamId, [...(handshakes.get(h.rtmsStreamId) ?? []), Date.now()]);
    });
    const kicks: { id: string; at: number; by: string }[] = [];
    emu.on('kicked', (k) => kicks.push({ id: k.rtmsStreamId, at: Date.now(), by: k.by }));
    const ids = emu.streams.map((s) => s.id.rtmsStreamId);
    const running = emu.run();

    await waitFor('12 streams joined', () => handshakes.size === 12, 30_000);
    const owners = await waitFor(
      'every stream owned and ready',
      () => {
        const list = view.list();
        return list.length === 12 && list.every((s) => s.worker && s.state === 'ready') && new Map(list.map((s) => [s.rtmsStreamId, s.worker!]));
      },
      15_000,
    );
    const perWorker = new Map<string, string[]>();
    for (const [id, w] of owners) perWorker.set(w, [...(perWorker.get(w) ?? []), id]);
    console.log(`# placement: ${[...perWorker].map(([w, s]) => `${w}=${s.length}`).join(' ')}`);
    assert.equal(perWorker.size, 3, 'all three workers hold streams');
    for (const [w, s] of perWorker) assert.ok(s.length >= 3 && s.length <= 5, `${w} holds ${s.length} of 12`);

    // ---- the gateway shows the whole cluster: API from the shared store + leases, live feed over NATS
    const base = url.replace(/\/webhook$/, '');
    const listed = await waitFor('the gateway API listing every stream with its worker', async () => {
      const body = (await (await fetch(`${base}/api/streams`)).json()) as { streams: { rtmsStreamId: string; live: { worker?: string } | null }[] };
      return body.streams.filter((r) => ids.includes(r.rtmsStreamId) && r.live?.worker).length === 12 && body.streams;
    }, 10_000);
    assert.equal(listed.length, 12);
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/live`);
    cleanups.push(() => ws.terminate());
    const liveTranscript = await waitFor('a transcript line on the gateway live feed', () => new Promise<string | false>((resolve) => {
      const onMessage = (d: WebSocket.RawData) => {
        const m = JSON.parse(String(d));
        if (m.type === 'transcript' && ids.includes(m.streamId)) {
          ws.off('message', onMessage);
          resolve(m.text as string);
        }
      };
      ws.on('message', onMessage);
      setTimeout(() => {
        ws.off('message', onMessage);
        resolve(false);
      }, 2000);
    }), 15_000);
    console.log(`# gateway: /api/streams lists 12 streams with their workers; live feed relayed from the workers: "${liveTranscript}"`);

    // ---- SIGKILL one worker -------------------------------------------------------------------
    await sleep(4000);
    const victimName = [...perWorker].sort((a, b) => b[1].length - a[1].length)[0][0];
    const victim = workers.find((w) => w.name === victimName)!;
    const moved = perWorker.get(victimName)!;
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    const rejoined = await waitFor('the dead worker’s streams rejoined', () => moved.every((id) => (handshakes.get(id) ?? []).length >= 2) && moved.map((id) => handshakes.get(id)![1] - killedAt), 15_000);
    const worst = Math.max(...rejoined);
    console.log(`# SIGKILL of ${victimName}: ${moved.length} streams rejoined by the others in ${rejoined.sort((a, b) => a - b).join(', ')} ms (worst ${worst} ms)`);
    assert.ok(worst < 5000, `failover took ${worst} ms`);
    const after = await waitFor('new owners', () => {
      const list = view.list().filter((s) => moved.includes(s.rtmsStreamId));
      return list.every((s) => s.worker && s.worker !== victimName) && list.map((s) => s.worker!);
    }, 10_000);
    assert.ok(after.every((w) => w !== victimName));

    // ---- restart NATS -------------------------------------------------------------------------
    let natsOutageMs = 0;
    if (canRestartNats) {
      await sleep(3000);
      const stoppedAt = Date.now();
      execFileSync('start-stop-daemon', ['--stop', '--oknodo', '--retry', '5', '--exec', NATS_BIN]);
      cleanups.push(() => execFileSync('start-stop-daemon', NATS_START)); // whatever happens, leave NATS running
      await sleep(2000);
      execFileSync('start-stop-daemon', NATS_START);
      await waitFor('NATS back', () => reachable(NATS_URL), 10_000);
      natsOutageMs = Date.now() - stoppedAt;
      console.log(`# NATS stopped and restarted: ${natsOutageMs} ms without NATS`);
      // Workers claim nothing for a lease lifetime after reconnecting (owners renew first).
      await sleep(5000);
    } else console.log('# NATS restart skipped: needs root and the machine’s own nats-server on port 4222');

    // ---- SIGTERM: a worker leaving hands its streams over at once (leases released, not expired) --
    const leaving = workers.find((w) => w !== victim)!;
    const handed = view.list().filter((x) => x.worker === leaving.name).map((x) => x.rtmsStreamId);
    assert.ok(handed.length > 0, `${leaving.name} holds streams`);
    const termAt = Date.now();
    leaving.child.kill('SIGTERM');
    const retaken = await waitFor('the leaving worker’s streams taken over', () => handed.every((id) => (handshakes.get(id) ?? []).length >= (moved.includes(id) ? 3 : 2)) && handed.map((id) => handshakes.get(id)!.at(-1)! - termAt), 15_000);
    const exit = await waitFor('the leaving worker exits', () => leaving.child.exitCode !== null && { code: leaving.child.exitCode }, 15_000);
    console.log(`# SIGTERM of ${leaving.name}: ${handed.length} streams handed over in ${Math.max(...retaken)} ms; exit code ${exit.code}`);
    assert.equal(exit.code, 0);
    assert.ok(Math.max(...retaken) < 2000, 'a handover does not wait for leases to expire');

    const summary = await running;
    const stopped = await waitFor('every recording complete', () => {
      const m = ids.map((id) => {
        try {
          return JSON.parse(readFileSync(join(dataDir, 'recordings', safeName(id), 'manifest.json'), 'utf8'));
        } catch {
          return undefined;
        }
      });
      return m.every((x) => x?.complete === true) && m;
    }, 30_000).catch((e) => {
      throw new Error(`${e.message}\n${workers.map((w) => `${w.name}: ${w.err.slice(-2000)}`).join('\n')}`);
    });

    // ---- what was delivered, what was kept -----------------------------------------------------
    if (kicks.length) console.log(`# kicks: ${JSON.stringify(kicks)}; SIGTERM at ${termAt}; handshakes ${JSON.stringify([...handshakes])}`);
    assert.equal(summary.connections.kicked, 0, 'no stream was ever connected twice at once');
    assert.deepEqual(kicks, []);
    for (const id of ids) assert.equal(handshakes.get(id)!.length, 1 + (moved.includes(id) ? 1 : 0) + (handed.includes(id) ? 1 : 0), `signaling joins of ${id}`);

    const store = new PostgresStore({ connectionString: PG_URL, schema: run });
    cleanups.push(() => store.close());
    /** Items of `expected` that `actual` lacks, counting repeats (the demo's lines recur). */
    const missing = (expected: string[], actual: string[]) => {
      const left = [...actual];
      return expected.filter((t) => {
        const i = left.indexOf(t);
        if (i < 0) return true;
        left.splice(i, 1);
        return false;
      });
    };
    // What the killed worker had been handed in its last moments may die with it (in its socket
    // buffers, or in a write not yet committed): lines delivered to it within this window of the
    // SIGKILL are allowed to be missing, and counted. Every other delivered line must be kept.
    const DYING_MS = 300;
    let lines = 0;
    let dying = 0;
    const lostDying: string[] = [];
    for (const [i, s] of emu.streams.entries()) {
      const id = s.id.rtmsStreamId;
      const sent = s.sentLog.filter((r) => r.kind === 'transcript').map((r) => ({ text: JSON.parse(r.message).content.data as string, at: s.startEpoch + r.at_ms }));
      const delivered = sent.map((x) => x.text);
      const atRisk = sent.filter((x) => moved.includes(id) && x.at > killedAt - DYING_MS && x.at <= killedAt).map((x) => x.text);
      const required = missing(delivered, atRisk);
      dying += atRisk.length;
      const stored = (await store.transcript(id)).map((t) => t.text);
      const recorded = readFileSync(join(dataDir, 'recordings', safeName(id), 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).text as string);
      if (missing(required, stored).length) console.log(`# ${id} (${moved.includes(id) ? 'moved' : handed.includes(id) ? 'handed over' : 'stayed'}): store lacks ${JSON.stringify(missing(required, stored))}; jsonl lacks ${JSON.stringify(missing(required, recorded))}; sent at ${JSON.stringify(sent.map((x) => [x.text.slice(0, 12), x.at - termAt]))} (ms after SIGTERM)`);
      for (const [where, kept] of [['the store', stored], ['transcript.jsonl', recorded]] as const) {
        assert.deepEqual(missing(required, kept), [], `transcript of ${id}: delivered lines missing from ${where}`);
        assert.deepEqual(missing(kept, delivered), [], `transcript of ${id}: ${where} holds lines never delivered (or twice)`);
        lostDying.push(...missing(atRisk, kept).map((t) => `${where}: ${t}`));
      }
      lines += delivered.length;

      const manifest = stopped[i];
      const gapMs = (manifest.gaps as { durationMs: number }[]).reduce((n, g) => n + g.durationMs, 0);
      const outageMs = s.missed.audio * 20;
      if (moved.includes(id)) {
        // The gap is the outage plus what the dead worker had received but not yet written: one 200 ms
        // write period plus its event-loop lag on this busy 2-core machine (measured 100-540 ms).
        assert.ok(gapMs >= outageMs - 40 && gapMs <= outageMs + 1000, `${id}: gap ${gapMs} ms for an outage of ${outageMs} ms`);
      } else if (handed.includes(id)) {
        // A handover flushes everything first: the gap is the outage alone.
        // Frames already on the wire when the leaving worker closed its sockets are the only extra.
        assert.ok(gapMs >= outageMs - 40 && gapMs <= outageMs + 150, `${id}: gap ${gapMs} ms for a handover outage of ${outageMs} ms`);
      } else {
        assert.equal(s.missed.audio, 0, `${id} lost no audio`);
        assert.equal(gapMs, 0, `${id} has no gap`);
      }
      const mixed = (manifest.files as { path: string; duration_ms: number }[]).find((f) => f.path === 'audio/mixed.wav')!;
      const streamMs = (s.sent.audio + s.missed.audio) * 20;
      assert.ok(Math.abs(mixed.duration_ms - streamMs) <= 60, `${id}: mixed.wav ${mixed.duration_ms} ms for a ${streamMs} ms stream`);
    }
    const gaps = moved.map((id) => {
      const i = ids.indexOf(id);
      return `${(stopped[i].gaps as { durationMs: number }[]).reduce((n, g) => n + g.durationMs, 0)}/${emu.streams[i].missed.audio * 20}`;
    });
    console.log(`# ${lines} transcript lines delivered; all stored and recorded except, of ${dying} delivered to the killed worker in its last ${DYING_MS} ms, ${lostDying.length} lost (${lostDying.join('; ') || 'none'}); gaps/outage (ms) of moved streams: ${gaps.join(' ')}`);
    const handedGaps = handed.map((id) => `${(stopped[ids.indexOf(id)].gaps as { durationMs: number }[]).reduce((n, g) => n + g.durationMs, 0)}/${emu.streams[ids.indexOf(id)].missed.audio * 20}`);
    console.log(`# gaps/outage (ms) of handed-over streams: ${handedGaps.join(' ')}`);
    for (const w of workers.filter((x) => x !== victim && x !== leaving)) assert.equal(w.child.exitCode, null, `${w.name} still running`);
  });
});
