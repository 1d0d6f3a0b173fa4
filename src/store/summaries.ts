/** Row mapping of `stream_summaries`, shared by the SQLite and PostgreSQL stores. */
import type { MeetingSummary } from '../intelligence/types.js';
import type { SummaryRecord } from './types.js';

type Row = Record<string, unknown>;

export const SUMMARY_COLUMNS = ['rtms_stream_id', 'notes', 'notes_updated_at', 'summary', 'summary_updated_at', 'provider', 'model', 'input_tokens', 'output_tokens', 'cost_usd', 'updated_at'] as const;

/** Values in SUMMARY_COLUMNS order; the summary as JSON text (PostgreSQL casts it to JSONB). */
export function summaryValues(r: SummaryRecord): unknown[] {
  return [r.rtmsStreamId, r.notes, r.notesUpdatedAt ?? null, r.summary ? JSON.stringify(r.summary) : null, r.summaryUpdatedAt ?? null, r.provider, r.model, r.inputTokens, r.outputTokens, r.costUsd ?? null, r.updatedAt];
}

export function summaryOfRow(r: Row): SummaryRecord {
  const summary = r.summary == null ? undefined : ((typeof r.summary === 'string' ? JSON.parse(r.summary) : r.summary) as MeetingSummary);
  return {
    rtmsStreamId: String(r.rtms_stream_id),
    notes: String(r.notes ?? ''),
    ...(r.notes_updated_at != null ? { notesUpdatedAt: Number(r.notes_updated_at) } : {}),
    ...(summary ? { summary } : {}),
    ...(r.summary_updated_at != null ? { summaryUpdatedAt: Number(r.summary_updated_at) } : {}),
    provider: String(r.provider),
    model: String(r.model),
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    ...(r.cost_usd != null ? { costUsd: Number(r.cost_usd) } : {}),
    updatedAt: Number(r.updated_at),
  };
}
