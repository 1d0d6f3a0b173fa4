/**
 * The final summary's JSON: validated with zod, tolerant of what models do (code fences, prose
 * around the object, `action_items` instead of `actionItems`, decisions as objects), and a fallback
 * that keeps the model's text when it is not the JSON asked for. Also its Markdown (summary.md).
 */
import { z } from 'zod';
import type { ActionItem, MeetingSummary } from './types.js';

const optionalText = z
  .union([z.string(), z.null()])
  .optional()
  .transform((v) => (typeof v === 'string' && v.trim() && !/^(null|none|n\/a|unknown)$/i.test(v.trim()) ? v.trim() : undefined));

const actionItem = z.union([
  z.string().transform((task): ActionItem => ({ task })),
  z
    .object({ task: z.string().optional(), text: z.string().optional(), description: z.string().optional(), owner: optionalText, assignee: optionalText, due: optionalText, dueDate: optionalText, due_date: optionalText })
    .transform((a): ActionItem => {
      const owner = a.owner ?? a.assignee;
      const due = a.due ?? a.dueDate ?? a.due_date;
      return { task: (a.task ?? a.text ?? a.description ?? '').trim(), ...(owner ? { owner } : {}), ...(due ? { due } : {}) };
    }),
]);

const decision = z.union([z.string(), z.object({ decision: z.string().optional(), text: z.string().optional() }).transform((d) => d.decision ?? d.text ?? '')]);

const summarySchema = z.object({
  overview: z.string(),
  decisions: z.array(decision).default([]),
  actionItems: z.array(actionItem).default([]),
});

/** The first `{` to the last `}`: models wrap JSON in fences or a sentence. */
function jsonObjectIn(text: string): unknown {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return undefined;
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch {
    return undefined;
  }
}

export function parseSummary(text: string): MeetingSummary {
  const raw = jsonObjectIn(text);
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const o = raw as Record<string, unknown>;
    const parsed = summarySchema.safeParse({ ...o, overview: o.overview ?? o.summary, actionItems: o.actionItems ?? o.action_items });
    if (parsed.success) {
      return {
        overview: parsed.data.overview.trim(),
        decisions: parsed.data.decisions.map((d) => d.trim()).filter(Boolean),
        actionItems: parsed.data.actionItems.filter((a) => a.task),
      };
    }
  }
  return { overview: text.trim(), decisions: [], actionItems: [], malformed: true };
}

export interface SummaryDocument {
  rtmsStreamId: string;
  meetingUuid: string;
  model: string;
  summary?: MeetingSummary;
  notes: string;
  updatedAt: number;
}

/** summary.md of a recording. Text from the meeting goes in as written (Markdown readers render it as text). */
export function summaryMarkdown(d: SummaryDocument): string {
  const out = [`# Meeting summary`, '', `Meeting ${d.meetingUuid} · stream ${d.rtmsStreamId} · ${new Date(d.updatedAt).toISOString()} · ${d.model}`, ''];
  if (d.summary) {
    out.push('## Overview', '', d.summary.overview || '(none)', '');
    out.push('## Decisions', '', ...(d.summary.decisions.length ? d.summary.decisions.map((x) => `- ${x}`) : ['- (none)']), '');
    out.push('## Action items', '');
    if (!d.summary.actionItems.length) out.push('- (none)');
    for (const a of d.summary.actionItems) out.push(`- [ ] ${a.task}${a.owner ? ` — ${a.owner}` : ''}${a.due ? ` (due ${a.due})` : ''}`);
    out.push('');
  }
  if (d.notes.trim()) out.push('## Live notes', '', d.notes.trim(), '');
  return out.join('\n');
}
