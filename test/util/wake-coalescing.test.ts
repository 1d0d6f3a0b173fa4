import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { DEFAULT_WAKE_COALESCING_MS, coalesceWakeups, noteFrameRead, wakeCoalescingPeriod, wakeCoalescingStats } from '../../src/util/wake-coalescing.js';
import { wakeCoalescingFromEnv } from '../../src/cli/config.js';
import { UsageError } from '../../src/cli/args.js';
import { runEmulated } from '../helpers/harness.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../../src/server/runtime.js';
import { openStore } from '../../src/store/open.js';

// The sender runs on its own thread (its own event loop), so the receiver's sleeps cannot slow it:
// one 16-byte message every millisecond on each of `sockets` connections, stamped with its send time.
const SENDER = `
const { workerData, parentPort } = require('node:worker_threads');
const net = require('node:net');
const { port, sockets, durationMs } = workerData;
const conns = [];
let open = 0;
for (let i = 0; i < sockets; i++) {
  const c = net.connect(port, '127.0.0.1', () => { if (++open === sockets) start(); });
  c.setNoDelay(true);
  conns.push(c);
}
function start() {
  const t0 = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    for (const c of conns) {
      const b = Buffer.alloc(16);
      b.writeDoubleLE(performance.timeOrigin + performance.now(), 0);
      b.writeDoubleLE(sent, 8);
      c.write(b);
    }
    sent++;
    if (performance.now() - t0 >= durationMs) {
      clearInterval(timer);
      for (const c of conns) c.end();
      parentPort.postMessage(sent * sockets);
    }
  }, 1);
}
`;

interface Received {
  messages: number;
  reads: number;
  /** Longest time from a message's send to the read that delivered it, ms. */
  maxDelayMs: number;
  sent: number;
}

/** Receives the sender's messages, calling noteFrameRead() on each read as the client does. */
async function receive(sockets: number, durationMs: number): Promise<Received> {
  const got: Received = { messages: 0, reads: 0, maxDelayMs: 0, sent: 0 };
  let closed = 0;
  let allClosed!: () => void;
  const done = new Promise<void>((r) => (allClosed = r));
  const server: Server = createServer((s: Socket) => {
    let rest: Buffer = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      noteFrameRead();
      got.reads++;
      const now = performance.timeOrigin + performance.now();
      const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      let off = 0;
      for (; off + 16 <= buf.length; off += 16) {
        got.messages++;
        got.maxDelayMs = Math.max(got.maxDelayMs, now - buf.readDoubleLE(off));
      }
      rest = buf.subarray(off);
    });
    s.on('end', () => {
      s.end();
      if (++closed === sockets) allClosed();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const worker = new Worker(SENDER, { eval: true, workerData: { port, sockets, durationMs } });
  const [sent] = (await once(worker, 'message')) as [number];
  got.sent = sent;
  await done;
  await worker.terminate();
  server.close();
  return got;
}

let stops: (() => void)[] = [];
afterEach(() => {
  stops.forEach((s) => s());
  stops = [];
});

describe('wake-up coalescing', () => {
  it('is off unless turned on: reading frames never sleeps', async () => {
    assert.equal(wakeCoalescingPeriod(), 0);
    const before = wakeCoalescingStats.sleeps;
    const got = await receive(4, 300);
    assert.equal(got.messages, got.sent, 'every message arrived');
    assert.equal(wakeCoalescingStats.sleeps, before);
  });

  it('on: reads many sockets in few loop turns, loses nothing, and delays a message by at most about the period', async () => {
    const periodMs = 20;
    const off = await receive(8, 600);
    stops.push(coalesceWakeups(periodMs));
    const before = { ...wakeCoalescingStats };
    const on = await receive(8, 600);
    assert.equal(on.messages, on.sent, 'every message arrived');
    const sleeps = wakeCoalescingStats.sleeps - before.sleeps;
    assert.ok(sleeps >= 10, `slept ${sleeps} times`);
    // Without coalescing each socket is read about once per message (a message a millisecond);
    // with it, a read takes what arrived during the whole period on that socket.
    assert.ok(on.reads * 3 < off.reads, `reads: ${on.reads} coalesced vs ${off.reads} without`);
    assert.ok(on.messages / on.reads >= 5, `${(on.messages / on.reads).toFixed(1)} messages per read`);
    // Generous: on a loaded CI machine the scheduler adds its own delay on top of the period.
    assert.ok(on.maxDelayMs < periodMs + 100, `a message waited ${on.maxDelayMs.toFixed(1)} ms (period ${periodMs})`);
    assert.ok((wakeCoalescingStats.sleptMs - before.sleptMs) / sleeps <= periodMs + 2, 'no sleep is longer than the period');
  });

  it('does not sleep while no frames are read: an idle process wakes for its timers on time', async () => {
    stops.push(coalesceWakeups(50));
    const before = wakeCoalescingStats.sleeps;
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10));
    // Five 10 ms timers in a row take 50 ms; a 50 ms sleep after each would make it 250.
    assert.ok(performance.now() - t0 < 200, `five 10 ms timers took ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(wakeCoalescingStats.sleeps, before);
  });

  it('requests nest: the newest in force applies, and stopping twice is harmless', () => {
    const a = coalesceWakeups(5);
    const b = coalesceWakeups(10);
    assert.equal(wakeCoalescingPeriod(), 10);
    b();
    b();
    assert.equal(wakeCoalescingPeriod(), 5);
    a();
    assert.equal(wakeCoalescingPeriod(), 0);
    coalesceWakeups(0)();
    assert.equal(wakeCoalescingPeriod(), 0);
    assert.throws(() => coalesceWakeups(500), RangeError);
  });

  it('RtmsClient marks every frame it reads', async () => {
    stops.push(coalesceWakeups(2));
    const before = wakeCoalescingStats.sleeps;
    const { joined } = await runEmulated({ meetings: 3, durationS: 1 });
    assert.equal(joined.length, 3);
    assert.ok(wakeCoalescingStats.sleeps > before, 'the client\'s reads led to sleeps');
  });
});

describe('the serve runtime', () => {
  it('turns coalescing on for as long as it runs, and off at shutdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-wake-'));
    const store = await openStore({ dataDir: dir, databaseUrl: null });
    const runtime = createRuntime({ clientId: 'c', clientSecret: 's', secretToken: 't', webhookPath: '/webhook', store, wakeCoalescingMs: 7 });
    assert.equal(wakeCoalescingPeriod(), 7);
    await runtime.shutdown();
    assert.equal(wakeCoalescingPeriod(), 0);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('OPENRTMS_WAKE_COALESCING_MS', () => {
  const saved = process.env.OPENRTMS_WAKE_COALESCING_MS;
  afterEach(() => {
    if (saved === undefined) delete process.env.OPENRTMS_WAKE_COALESCING_MS;
    else process.env.OPENRTMS_WAKE_COALESCING_MS = saved;
  });
  it('defaults when unset, 0 turns it off, bad values are one-line usage errors naming the variable', () => {
    delete process.env.OPENRTMS_WAKE_COALESCING_MS;
    assert.equal(wakeCoalescingFromEnv('serve'), DEFAULT_WAKE_COALESCING_MS);
    process.env.OPENRTMS_WAKE_COALESCING_MS = '0';
    assert.equal(wakeCoalescingFromEnv('serve'), 0);
    process.env.OPENRTMS_WAKE_COALESCING_MS = '2.5';
    assert.equal(wakeCoalescingFromEnv('serve'), 2.5);
    for (const bad of ['abc', '-1', '1000']) {
      process.env.OPENRTMS_WAKE_COALESCING_MS = bad;
      assert.throws(() => wakeCoalescingFromEnv('serve'), (e: Error) => e instanceof UsageError && /^serve: OPENRTMS_WAKE_COALESCING_MS: expected/.test(e.message));
    }
  });
});
