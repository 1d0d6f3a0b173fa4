/**
 * The MCP server at /mcp, driven by the official SDK's client over Streamable HTTP: behind the API
 * token, it lists the meeting, searches it, reads its transcript and summary, and answers a question
 * through the configured LLM (here the Anthropic stand-in) with the passages it retrieved.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LlmStandin } from './standins.js';
import { runMeeting, serveWithLlm, until, type Served } from './meeting.js';

const TOKEN = 'mcp-test-token';
let llm: LlmStandin;
let served: Served;
let id = '';

before(async () => {
  llm = await new LlmStandin({ provider: 'anthropic', apiKey: 'sk-ant-mcp', model: 'claude-mcp', maxContextTokens: 4000, forbidden: ['alice.smith@example.com'] }).listen();
  served = await serveWithLlm(llm, { apiToken: TOKEN }, { notesEveryMinutes: 0, maxContextTokens: 4000 });
  ({ id } = await runMeeting(served.url, 8));
  await until(async () => (await served.runtime.store.summary(id))?.summary !== undefined, 10_000, 'the final summary');
});
after(async () => {
  await served?.close();
  await llm?.close();
});

async function connect(token?: string): Promise<Client> {
  const client = new Client({ name: 'openrtms-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${served.url}/mcp`), token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {});
  await client.connect(transport);
  return client;
}

const text = (r: unknown) => (((r as { content?: { type: string; text: string }[] }).content ?? [])[0]?.text ?? '');

describe('MCP server (/mcp, Streamable HTTP)', () => {
  it('refuses a client without the API token', async () => {
    await assert.rejects(connect(), /401|Unauthorized|UNAUTHORIZED/i);
    await assert.rejects(connect('wrong-token'), /401|Unauthorized|UNAUTHORIZED/i);
  });

  it('lists its tools, the meeting, its transcript, search hits and summary', async () => {
    const client = await connect(TOKEN);
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name).sort();
      assert.deepEqual(tools, ['ask', 'get_summary', 'get_transcript', 'list_meetings', 'search']);
      const meetings = JSON.parse(text(await client.callTool({ name: 'list_meetings', arguments: {} }))) as { meetings: { streamId: string; product: string; hasSummary: boolean }[] };
      const m = meetings.meetings.find((x) => x.streamId === id);
      assert.ok(m, 'the meeting is listed');
      assert.equal(m.product, 'meeting');
      assert.equal(m.hasSummary, true);
      const transcript = text(await client.callTool({ name: 'get_transcript', arguments: { streamId: id } }));
      assert.match(transcript, /^\[00:0\d\] Alice: Welcome, let's review the launch plan\.$/m);
      assert.match(transcript, /Bob: I will send the deck by Friday\./);
      assert.equal(text(await client.callTool({ name: 'get_transcript', arguments: { streamId: id, source: 'deepgram' } })), '(no transcript)', 'another source is another track');
      const hits = JSON.parse(text(await client.callTool({ name: 'search', arguments: { query: 'deck' } }))) as { hits: { streamId: string; speaker: string; text: string }[] };
      assert.deepEqual(hits.hits.map((h) => [h.streamId, h.speaker, h.text]), [[id, 'Bob', 'I will send the deck by Friday.']]);
      const summary = JSON.parse(text(await client.callTool({ name: 'get_summary', arguments: { streamId: id } }))) as { summary: { decisions: string[] } };
      assert.deepEqual(summary.summary.decisions, ['We decided to launch on March 3.']);
      const none = await client.callTool({ name: 'get_summary', arguments: { streamId: 'nope' } });
      assert.equal(none.isError, true);
    } finally {
      await client.close();
    }
  });

  it('ask: retrieves the relevant passages and answers with the configured LLM, citing time and speaker', async () => {
    const client = await connect(TOKEN);
    try {
      const before = llm.requests.length;
      const r = await client.callTool({ name: 'ask', arguments: { streamId: id, question: 'What did we decide about the launch?' } });
      assert.notEqual(r.isError, true, text(r));
      const a = JSON.parse(text(r)) as { answer: string; citations: { time: string; speaker: string; text: string }[]; model: string };
      const req = llm.requests.slice(before);
      assert.equal(req.length, 1);
      assert.match(req[0].user, /Question: What did we decide about the launch\?/);
      assert.match(req[0].user, /\] Alice: We decided to launch on March 3\./);
      assert.ok(!req[0].user.includes('alice.smith@example.com'), 'the question and passages are redacted too');
      // The stand-in quotes the first passage it got: the answer came from the LLM.
      assert.match(a.answer, /^From \d passage\(s\): \[00:0\d\] Alice: Welcome, let's review the launch plan\.$/);
      assert.ok(a.citations.some((c) => c.speaker === 'Alice' && c.text === 'We decided to launch on March 3.' && /^00:0\d$/.test(c.time)));
      assert.equal(a.model, 'claude-mcp');
      assert.deepEqual(llm.violations, []);
      // A narrower question: only the passage that answers it and its neighbours go to the LLM.
      const narrow = await client.callTool({ name: 'ask', arguments: { streamId: id, question: 'Who sends the deck?' } });
      const sent = llm.requests.at(-1)!.user;
      assert.match(sent, /Bob: I will send the deck by Friday\./);
      assert.ok(!sent.includes('Welcome') && !sent.includes('Thanks everyone'), `only retrieved passages, not the whole meeting:\n${sent}`);
      assert.match(text(narrow), /From 3 passage\(s\): \[00:0\d\] Alice: We decided to launch on March 3\./);
      const unknown = await client.callTool({ name: 'ask', arguments: { streamId: 'nope', question: 'anything?' } });
      assert.equal(unknown.isError, true);
      assert.match(text(unknown), /no stream nope/);
    } finally {
      await client.close();
    }
  });

  it('ask without an LLM configured says so; GET /mcp is 405 in stateless mode', async () => {
    const { createWebApp } = await import('../../src/server/web.js');
    const { LiveBus } = await import('../../src/live/bus.js');
    const web = createWebApp({ store: served.runtime.store, bus: new LiveBus(), dashboard: false });
    await web.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const address = web.app.server.address() as { port: number };
      const client = new Client({ name: 't', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${address.port}/mcp`)));
      const r = await client.callTool({ name: 'ask', arguments: { streamId: id, question: 'What was decided?' } });
      assert.equal(r.isError, true);
      assert.match(text(r), /no LLM is configured: add an "intelligence" entry/);
      await client.close();
      const get = await fetch(`http://127.0.0.1:${address.port}/mcp`, { headers: { accept: 'text/event-stream' } });
      assert.equal(get.status, 405);
    } finally {
      await web.close();
    }
  });
});
