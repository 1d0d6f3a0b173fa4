/**
 * Conformance harness: one Emulator and one RtmsClient per announced stream, joined the way a
 * gateway would (once per stream; a start after that stream's stop is ignored unless `naive`).
 */
import { RtmsClient, type RtmsClientOptions } from '../../src/client/index.js';
import type { ClosedEvent, TranscriptFrame } from '../../src/client/types.js';
import { Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import type { EmulatorSummary } from '../../src/emulator/summary.js';
import { demoScenario } from '../../src/emulator/scenario.js';

export const creds = { clientId: 'test-client', clientSecret: 'test-secret' };
export const fastReconnect = { initialDelayMs: 50, maxDelayMs: 400, jitter: 0.2, maxAttempts: 30 };

export interface Joined {
  client: RtmsClient;
  payload: Record<string, unknown>;
  closed: Promise<ClosedEvent>;
  transcripts: TranscriptFrame[];
  audioUsers: Set<number | string>;
  joinError?: Error;
}

export interface RunResult {
  summary: EmulatorSummary;
  emulator: Emulator;
  joined: Joined[];
  startWebhooks: number;
}

export async function runEmulated(
  opts: Partial<EmulatorOptions> & { durationS?: number },
  clientOptions: RtmsClientOptions = {},
  mode: { naive?: boolean; onJoined?: (j: Joined) => void } = {},
): Promise<RunResult> {
  const joined: Joined[] = [];
  const seen = new Set<string>();
  const finished = new Set<string>();
  let startWebhooks = 0;
  const emulator = new Emulator({
    ...creds,
    secretToken: 'test-token',
    scenario: opts.scenario ?? demoScenario(opts.durationS ?? 3),
    ...opts,
    onWebhook: (body) => {
      const event = String(body.event);
      const payload = body.payload as Record<string, unknown>;
      const id = String(payload.rtms_stream_id);
      if (event.endsWith('rtms_stopped')) {
        finished.add(id);
        return;
      }
      if (!event.endsWith('rtms_started')) return;
      startWebhooks++;
      if (!mode.naive && (seen.has(id) || finished.has(id))) return;
      seen.add(id);
      const client = new RtmsClient({ ...creds, reconnect: fastReconnect, ...clientOptions });
      const j: Joined = { client, payload, closed: client.whenClosed(), transcripts: [], audioUsers: new Set() };
      client.on('transcript', (t) => j.transcripts.push(t));
      client.on('audio', (a) => j.audioUsers.add(a.userId));
      client.join(payload as never).catch((err: Error) => (j.joinError = err));
      joined.push(j);
      mode.onJoined?.(j);
    },
  });
  await emulator.start();
  try {
    const final = await emulator.run();
    await Promise.race([Promise.all(joined.map((j) => j.closed)), new Promise((r) => setTimeout(r, 3000))]);
    // Late handshakes (a retried start after the stop) are counted after run() resolved.
    const summary = emulator.summary(final.duration_s, final.completed);
    return { summary, emulator, joined, startWebhooks };
  } finally {
    for (const j of joined) await j.client.close();
    await emulator.close();
  }
}
