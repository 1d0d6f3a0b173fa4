/**
 * The MCP server at `/mcp` (Streamable HTTP, stateless: every POST carries one JSON-RPC message or
 * batch, answered as JSON; no session to keep across fastify requests or cluster gateways), behind
 * the API token. Tools: list_meetings, search, get_transcript, get_summary, ask.
 * Meeting text is data, returned as tool output; it is never used as instructions here.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requireToken } from '../server/auth.js';
import type { Store } from '../store/types.js';
import { formatLine } from './prompts.js';
import type { Intelligence } from './service.js';
import { readTranscript } from './transcript.js';

export interface McpRoutesOptions {
  store: Store;
  /** Answers `ask`; without it `ask` says that no LLM is configured. */
  intelligence?: Intelligence;
  apiToken?: string;
  version?: string;
}

const json = (value: unknown): CallToolResult => ({ content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] });
const fail = (message: string): CallToolResult => ({ content: [{ type: 'text', text: message }], isError: true });
const iso = (ms?: number) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** A new MCP server with openrtms's tools over `store` (one per request: stateless mode). */
export function createMcpServer(o: McpRoutesOptions): McpServer {
  const server = new McpServer({ name: 'openrtms', version: o.version ?? '0' });
  const { store } = o;

  server.registerTool(
    'list_meetings',
    {
      title: 'List meetings',
      description: 'Recent RTMS streams (meetings, webinars, sessions, calls), most recent first, with their ids for the other tools.',
      inputSchema: { limit: z.number().int().min(1).max(200).optional().describe('How many (default 20)'), state: z.enum(['starting', 'active', 'paused', 'reconnecting', 'stopped']).optional() },
    },
    async ({ limit, state }) => {
      const streams = await store.listStreams({ limit: limit ?? 20, ...(state ? { state } : {}) });
      return json({
        meetings: await Promise.all(
          streams.map(async (s) => ({
            streamId: s.rtmsStreamId,
            meetingUuid: s.meetingUuid,
            product: s.product,
            state: s.state,
            startedAt: iso(s.startedAt),
            ...(s.stoppedAt ? { stoppedAt: iso(s.stoppedAt) } : {}),
            hasSummary: (await store.summary(s.rtmsStreamId))?.summary !== undefined,
          })),
        ),
      });
    },
  );

  server.registerTool(
    'search',
    {
      title: 'Search transcripts and chat',
      description: 'Full-text search over every stored transcript and chat message. Words must all match; "a phrase", or, -excluded work.',
      inputSchema: { query: z.string().min(1), streamId: z.string().optional().describe('Only this stream'), limit: z.number().int().min(1).max(100).optional() },
    },
    async ({ query, streamId, limit }) => {
      const hits = await store.search(query, { limit: limit ?? 20, ...(streamId ? { streamId } : {}) });
      return json({ hits: hits.map((h) => ({ streamId: h.rtmsStreamId, kind: h.kind, speaker: h.speaker, at: iso(h.timestamp), text: h.text })) });
    },
  );

  server.registerTool(
    'get_transcript',
    {
      title: 'Get a transcript',
      description: 'The transcript of one stream as lines "[mm:ss] Speaker: text" (time from the stream start).',
      inputSchema: { streamId: z.string().min(1), source: z.string().optional().describe('Transcript track: "zoom" (default) or a speech-to-text provider') },
    },
    async ({ streamId, source }) => {
      const stream = await store.getStream(streamId);
      if (!stream) return fail(`no stream ${streamId}; list_meetings gives the ids`);
      const segments = await readTranscript(store, streamId, source);
      const lines = segments.map((s) => formatLine({ at: s.timestamp, speaker: s.userName, text: s.text }, stream.startedAt));
      return { content: [{ type: 'text', text: lines.length ? lines.join('\n') : '(no transcript)' }] };
    },
  );

  server.registerTool(
    'get_summary',
    {
      title: 'Get a summary',
      description: 'The LLM notes and final summary of one stream (overview, decisions, action items with owner and due date).',
      inputSchema: { streamId: z.string().min(1) },
    },
    async ({ streamId }) => {
      const r = await store.summary(streamId);
      if (!r) return fail(`stream ${streamId} has no notes or summary`);
      return json({ streamId, notes: r.notes, summary: r.summary ?? null, final: r.summary !== undefined, model: r.model, updatedAt: iso(r.updatedAt) });
    },
  );

  server.registerTool(
    'ask',
    {
      title: 'Ask about a meeting',
      description: 'Answers a question about one meeting from its most relevant transcript passages, citing times and speakers.',
      inputSchema: { streamId: z.string().min(1), question: z.string().min(1), source: z.string().optional() },
    },
    async ({ streamId, question, source }) => {
      if (!o.intelligence) return fail('no LLM is configured: add an "intelligence" entry to the openrtms config file (see README "Notes and summaries")');
      try {
        const a = await o.intelligence.ask(streamId, question, source);
        return json({ answer: a.answer, citations: a.citations, model: a.model });
      } catch (err) {
        return fail(`could not answer: ${(err as Error).message}`);
      }
    },
  );
  return server;
}

export async function mcpRoutes(app: FastifyInstance, o: McpRoutesOptions): Promise<void> {
  const onRequest = requireToken(o.apiToken);
  app.post('/mcp', { onRequest }, async (req, reply) => {
    const server = createMcpServer(o);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req.raw, reply.raw, req.body);
    } catch (err) {
      // Hijacked: fastify's error handler cannot answer any more, so answer here.
      req.log.warn({ err: (err as Error).message }, 'MCP request failed');
      if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }));
      else reply.raw.end();
    }
  });
  // Stateless: no server-initiated stream (GET) and no session to end (DELETE).
  const notAllowed = async (_req: unknown, reply: { code(n: number): { header(k: string, v: string): { send(b: unknown): unknown } } }) =>
    reply.code(405).header('allow', 'POST').send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP server is stateless; POST JSON-RPC messages to /mcp' }, id: null });
  app.get('/mcp', { onRequest }, notAllowed as never);
  app.delete('/mcp', { onRequest }, notAllowed as never);
}
