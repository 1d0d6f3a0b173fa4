/**
 * Issue 16's "done when", through the real CLI: `openrtms demo --config` with two speech-to-text
 * providers (a Deepgram and an OpenAI-compatible Whisper stand-in) and an LLM (an OpenAI-compatible
 * chat stand-in). The dashboard in headless Chromium shows three transcript tracks and notes that
 * update while the meeting runs, then the final summary; an MCP client (the official SDK) lists the
 * meeting and gets an answer about it from the LLM.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LlmStandin } from './standins.js';
import { startDeepgramStandIn } from '../helpers/stt/deepgram-server.js';
import { startOpenAiStandIn } from '../helpers/stt/openai-server.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const FIRST = "Good morning everyone, let's start with the quarterly roadmap.";
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('demo with two speech-to-text providers and an LLM', { skip: existsSync(CHROMIUM) ? false : `Chromium not installed at ${CHROMIUM} (.ci/run installs it)` }, () => {
  it('three transcript tracks and live notes in the dashboard; the MCP client lists the meeting and gets an answer', { timeout: 90_000 }, async () => {
    const { chromium } = await import('playwright-core');
    const dg = await startDeepgramStandIn({ apiKey: 'dg-key' });
    cleanups.push(() => dg.close());
    const whisper = await startOpenAiStandIn({ apiKey: 'local', sampleRate: 16000 });
    cleanups.push(() => whisper.close());
    const llm = await new LlmStandin({ provider: 'openai', apiKey: 'sk-demo', model: 'gpt-demo' }).listen();
    cleanups.push(() => llm.close());
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-demo-ai-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'openrtms.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        transcription: [
          { provider: 'deepgram', apiKey: '${DG_KEY}', baseUrl: dg.url },
          { provider: 'openai', name: 'whisper', baseUrl: whisper.url, apiKey: 'local', chunkSeconds: 3 },
        ],
        intelligence: { provider: 'openai', baseUrl: llm.baseUrl, apiKey: '${LLM_KEY}', model: 'gpt-demo', notesEveryMinutes: 0.05 },
      }),
    );

    const child = spawn(process.execPath, ['bin/openrtms.js', 'demo', '--port', '0', '--duration', '14', '--data-dir', join(dir, 'data'), '--config', config], {
      env: { ...process.env, DG_KEY: 'dg-key', LLM_KEY: 'sk-demo', OPENRTMS_DATA_DIR: '', OPENRTMS_CONFIG: '' },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
    const waitFor = async (re: RegExp, ms: number): Promise<RegExpExecArray> => {
      const end = Date.now() + ms;
      for (;;) {
        const m = re.exec(out);
        if (m) return m;
        if (Date.now() > end || child.exitCode !== null) throw new Error(`timed out waiting for ${re} in demo output:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const url = (await waitFor(/Dashboard: (http:\/\/127\.0\.0\.1:\d+)\//, 30_000))[1];

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    cleanups.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${url}/`);
    // Live, while the meeting runs: Zoom's track, both providers' tracks and the LLM's rolling notes.
    await page.locator('#transcript').getByText(FIRST).waitFor({ timeout: 20_000 });
    await page.locator('#tracks [data-track="deepgram"]').getByText(FIRST).waitFor({ timeout: 15_000 });
    await page.locator('#tracks [data-track="whisper"]').getByText(/quarterly roadmap/).first().waitFor({ timeout: 15_000 });
    await page.locator('#summary-panel[data-state="notes"]').waitFor({ timeout: 15_000 });
    assert.doesNotMatch(out, /Meetings ended/, 'tracks and notes were live, before the meeting ended');
    const notesBefore = await page.locator('#summary .summary-notes').textContent();
    await waitFor(/Meetings ended/, 40_000);
    await page.locator('#summary-panel[data-state="final"]').waitFor({ timeout: 20_000 });
    assert.notEqual(await page.locator('#summary').textContent(), notesBefore, 'the panel updated to the final summary');

    const streams = (await (await fetch(`${url}/api/streams`)).json()) as { streams: { rtmsStreamId: string }[] };
    const id = streams.streams[0].rtmsStreamId;
    const stream = (await (await fetch(`${url}/api/streams/${encodeURIComponent(id)}`)).json()) as { transcriptSources: string[] };
    assert.deepEqual([...stream.transcriptSources].sort(), ['deepgram', 'whisper', 'zoom']);

    const client = new Client({ name: 'openrtms-demo-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
    cleanups.push(() => client.close());
    const text = (r: unknown) => (((r as { content?: { type: string; text: string }[] }).content ?? [])[0]?.text ?? '');
    const listed = JSON.parse(text(await client.callTool({ name: 'list_meetings', arguments: {} }))) as { meetings: { streamId: string; hasSummary: boolean }[] };
    assert.ok(listed.meetings.some((m) => m.streamId === id && m.hasSummary), 'the meeting is listed, with its summary');
    const asked = llm.requests.length;
    const r = await client.callTool({ name: 'ask', arguments: { streamId: id, question: 'What is on the quarterly roadmap?' } });
    assert.notEqual(r.isError, true, text(r));
    const answer = JSON.parse(text(r)) as { answer: string; model: string };
    assert.equal(llm.requests.length, asked + 1, 'the answer came from the LLM');
    assert.match(llm.requests.at(-1)!.user, /quarterly roadmap/);
    assert.match(answer.answer, /^From \d+ passage\(s\): /);
    assert.equal(answer.model, 'gpt-demo');
    assert.deepEqual(llm.violations, []);

    child.kill('SIGINT');
    assert.equal(await exited, 0, out);
  });
});
