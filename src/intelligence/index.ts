/** Meeting intelligence: LLM notes and summaries, the MCP server. */
export { parseIntelligence } from './config.js';
export { createLlmClient, OpenAiChatClient, AnthropicClient, type LlmClient, type LlmRequest, type LlmResponse } from './llm/index.js';
export { Summarizer, type LlmObserver, type LlmPurpose } from './summarizer.js';
export { Intelligence, type IntelligenceOptions, type Answer, type Citation } from './service.js';
export { NotesSink, type NotesSinkOptions } from './sink.js';
export { redactPii } from './redact.js';
export { parseSummary, summaryMarkdown } from './summary.js';
export { readTranscript } from './transcript.js';
export { createMcpServer } from './mcp.js';
export type { IntelligenceConfig, IntelligencePrompts, MeetingSummary, ActionItem, TokenUsage, LlmProvider } from './types.js';
