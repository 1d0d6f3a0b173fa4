/**
 * Runs every fault spec of the emulator, on one stream of each of the five products at once,
 * against one conformance client, and checks Zoom's contract: the client recovers from every
 * recoverable fault, receives every frame the emulator sent, and loses nothing beyond the outage.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Emulator } from '../../../src/emulator/index.js';
import { demoScenario } from '../../../src/emulator/scenario.js';
import { PRODUCTS } from '../../../src/protocol/index.js';
import type { EmulatorSummary } from '../../../src/emulator/summary.js';
import type { ConformanceClient, FrameKind, Webhook } from './common.js';

export const CREDS = { clientId: 'conformance-client', clientSecret: 'conformance-secret', secretToken: 'conformance-token' };

/** Zoom's delays (3 s backoff, 1.5 s status-8 retry) scaled down so a run takes seconds. */
export const TIME_SCALE = 0.05;

export interface FaultCase {
  spec: string;
  /** Longest outage (ms of media) the client may miss per stream. 0: nothing may be missed. */
  maxOutageMs: number;
}

export const FAULTS: FaultCase[] = [
  { spec: 'drop-signaling@1s', maxOutageMs: 1500 },
  { spec: 'drop-media@1s', maxOutageMs: 1500 },
  { spec: 'stall@1s:1500ms', maxOutageMs: 2500 },
  { spec: 'malformed@1s', maxOutageMs: 0 },
  { spec: 'restart@1s:1s', maxOutageMs: 2500 },
  { spec: 'pause@1s:1s', maxOutageMs: 0 },
  { spec: 'duplicate-webhook:3', maxOutageMs: 0 },
  { spec: 'webhook-delay:200', maxOutageMs: 0 },
  { spec: 'out-of-order', maxOutageMs: 0 },
];

const KINDS: FrameKind[] = ['audio', 'video', 'share', 'transcript', 'chat'];

export interface RunOutcome {
  summary: EmulatorSummary;
  client: ConformanceClient;
}

/** One emulated meeting per product, the fault, and the client fed every webhook. */
export async function runFault(spec: string, makeClient: () => ConformanceClient, durationS = 4): Promise<RunOutcome> {
  const client = makeClient();
  const emulator = new Emulator({
    ...CREDS,
    scenario: demoScenario(durationS),
    product: [...PRODUCTS],
    meetings: PRODUCTS.length,
    faults: [spec],
    // Three missed requests end a socket: 3 s, so a client busy parsing fault `malformed`'s 17 MiB
    // frames on a loaded machine is not dropped for answering late.
    keepAliveIntervalMs: 1000,
    onWebhook: (body) => client.webhook(body as unknown as Webhook),
  });
  await emulator.start();
  try {
    const summary = await emulator.run();
    await new Promise((r) => setTimeout(r, 300)); // late handshakes (a start retried after the stop)
    // Let the client read what is still in flight (fault `malformed` queues 17 MiB frames per socket).
    const caughtUp = () => summary.per_stream.every((s) => KINDS.every((k) => client.frames(s.rtms_stream_id)[k] >= s.sent[k]));
    for (const deadline = Date.now() + 10_000; !caughtUp() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
    return { summary: emulator.summary(summary.duration_s, summary.completed), client };
  } finally {
    client.close();
    await emulator.close();
  }
}

/** The assertions every client must pass for a fault. */
export function checkRecovery({ summary, client }: RunOutcome, fault: FaultCase): void {
  for (const report of summary.faults) {
    if (report.expected_recovery) assert.equal(report.client_recovered, true, `${client.name} recovered from ${report.spec} on ${report.rtms_stream_id}`);
  }
  for (const s of summary.per_stream) {
    const got = client.frames(s.rtms_stream_id);
    for (const k of KINDS) assert.equal(got[k], s.sent[k], `${client.name}, ${s.product}: every ${k} frame sent was received`);
    assert.ok(s.sent.audio > 0, `${s.product}: audio flowed`);
    assert.ok(s.missed.audio * 20 <= fault.maxOutageMs, `${client.name}, ${s.product}: missed ${s.missed.audio * 20} ms of audio after ${fault.spec} (at most ${fault.maxOutageMs})`);
    assert.equal(s.ended_by, 'scenario', `${s.product}: the stream ran to its end`);
  }
}

/** The whole matrix for one client, as a describe block. */
export function conformanceSuite(name: string, makeClient: () => ConformanceClient, extra?: (o: RunOutcome, fault: FaultCase) => void): void {
  describe(`Zoom's failover contract: ${name}, every fault, all five products`, () => {
    for (const fault of FAULTS) {
      it(fault.spec, async () => {
        const outcome = await runFault(fault.spec, makeClient);
        checkRecovery(outcome, fault);
        extra?.(outcome, fault);
      });
    }
    it('kick@1s: the takeover is final, the client does not fight back', async () => {
      const { summary } = await runFault('kick@1s', makeClient, 3);
      for (const r of summary.faults) assert.equal(r.client_recovered, false);
      assert.equal(summary.connections.signaling, PRODUCTS.length, 'no reconnect after a takeover');
      assert.equal(summary.connections.kicked, PRODUCTS.length);
    });
  });
}
