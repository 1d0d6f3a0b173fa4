/** Default prompts (each replaceable in the config file) and how transcript lines are written into a prompt. */
import type { IntelligencePrompts } from './types.js';

export const DEFAULT_PROMPTS: IntelligencePrompts = {
  notes:
    'You keep concise live notes of a meeting. You receive the notes so far and the next part of the transcript ' +
    '(lines "[mm:ss] Speaker: text"; chat lines are marked "(chat)"). Return the updated notes as short Markdown ' +
    'bullet points: topics discussed, decisions, open questions, action items with owner. Keep what is still true ' +
    'from the notes so far, add what is new, never invent facts. Return only the notes.',
  summary:
    'You summarise a meeting from its transcript (lines "[mm:ss] Speaker: text") or from notes of its parts. ' +
    'Answer with a JSON object: {"overview": string (a short paragraph), "decisions": [string], ' +
    '"actionItems": [{"task": string, "owner": string or null, "due": string or null}]}. ' +
    'Owner and due date only when they were said; never invent them. Use empty lists when there are none.',
  answer:
    'You answer questions about one meeting using only the transcript passages given (lines "[mm:ss] Speaker: text"). ' +
    'Cite the time and speaker of each passage you rely on, like [12:03, Alice]. If the passages do not answer ' +
    'the question, say so.',
};

/** One line of text the LLM sees. `at` is ms since the epoch. */
export interface PromptLine {
  at: number;
  speaker: string;
  text: string;
  chat?: boolean;
}

/** mm:ss (h:mm:ss past an hour) from the stream's start. */
export function offsetClock(at: number, startedAt: number): string {
  const s = Math.max(0, Math.floor((at - startedAt) / 1000));
  const two = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  return h ? `${h}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}` : `${two(Math.floor(s / 60))}:${two(s % 60)}`;
}

export function formatLine(l: PromptLine, startedAt: number): string {
  return `[${offsetClock(l.at, startedAt)}] ${l.speaker || 'unknown'}${l.chat ? ' (chat)' : ''}: ${l.text.replace(/\s+/g, ' ').trim()}`;
}
