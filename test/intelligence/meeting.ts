/** Shared by the intelligence tests: a short scripted meeting with PII, a decision and a commitment, and a server whose LLM is a stand-in. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../src/emulator/index.js';
import type { Scenario } from '../../src/emulator/scenario.js';
import { parseIntelligence } from '../../src/intelligence/config.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/server/runtime.js';
import { openStore } from '../../src/store/open.js';
import type { LlmStandin } from './standins.js';

export const PII = ['alice.smith@example.com', '+1 415-555-0134'];
export const creds = { clientId: 'llm-client', clientSecret: 'llm-secret', secretToken: 'llm-token' };
const quiet = { info() {}, warn() {}, error() {} };

/** Eight seconds: two speakers, a chat message; the PII is in speech and in chat. */
export function scriptedMeeting(seconds = 8): Scenario {
  const say = (at: number, user_id: number, text: string) => ({ at, type: 'speak' as const, user_id, text, duration: 0.8 });
  return {
    name: 'llm-meeting',
    duration_s: seconds,
    participants: [
      { user_id: 101, user_name: 'Alice', join_at: 0, video: false },
      { user_id: 102, user_name: 'Bob', join_at: 0, video: false },
    ],
    timeline: [
      say(0.3, 101, "Welcome, let's review the launch plan."),
      say(1.3, 102, 'Reach me at alice.smith@example.com if the venue changes.'),
      { at: 1.8, type: 'chat' as const, user_id: 102, text: 'My number is +1 415-555-0134' },
      say(2.6, 101, 'We decided to launch on March 3.'),
      say(3.9, 102, 'I will send the deck by Friday.'),
      say(5.2, 101, 'Marketing needs the launch assets next week.'),
      say(6.4, 102, 'Thanks everyone, talk soon.'),
    ],
  };
}

export interface Served {
  runtime: Runtime;
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function serveWithLlm(llm: LlmStandin, extra: Partial<RuntimeOptions> = {}, intelligence: Record<string, unknown> = {}): Promise<Served> {
  const dataDir = mkdtempSync(join(tmpdir(), 'openrtms-llm-'));
  const store = await openStore({ dataDir, databaseUrl: null });
  const runtime = createRuntime({
    ...creds,
    webhookPath: '/webhook',
    store,
    dataDir,
    logger: quiet,
    intelligence: parseIntelligence({ provider: llm.o.provider, baseUrl: llm.baseUrl, apiKey: llm.o.apiKey, model: llm.o.model, notesEveryMinutes: 0.04, ...intelligence }),
    ...extra,
  });
  const { url } = await runtime.app.listen(0, '127.0.0.1');
  return {
    runtime,
    url,
    dataDir,
    close: async () => {
      await runtime.shutdown();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs the scripted meeting against the server; resolves with the stream id once the emulator is done. */
export async function runMeeting(url: string, seconds = 8, scenario: Scenario = scriptedMeeting(seconds)): Promise<{ emu: Emulator; id: string }> {
  const emu = new Emulator({ ...creds, webhookUrl: `${url}/webhook`, product: 'meeting', scenario, seed: 3 });
  await emu.start();
  await emu.run();
  const id = emu.streams[0].id.rtmsStreamId;
  await emu.close();
  return { emu, id };
}

export async function until(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
