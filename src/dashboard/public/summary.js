// Notes and summary panel: the LLM's rolling notes while a meeting runs, its final summary when it ends.
// Loaded from GET /api/streams/:id/summary, then updated by `summary` messages of the live feed.
// Everything shown comes from the meeting and the model: rendered as text only, never as HTML.

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

let current = null; // stream id the panel shows
let shownAt = 0; // updatedAt of what is shown: an older message never replaces a newer one

function panel() {
  return document.getElementById('summary-panel');
}

function render(s) {
  const box = document.getElementById('summary');
  const p = panel();
  if (!box || !p) return;
  if ((s.updatedAt ?? 0) < shownAt) return;
  shownAt = s.updatedAt ?? 0;
  p.hidden = false;
  p.dataset.state = s.summary ? 'final' : 'notes';
  document.getElementById('summary-meta').textContent = `· ${s.summary ? 'final' : 'live notes'} · ${s.model ?? ''}`;
  const parts = [];
  if (s.summary) {
    parts.push(el('p', 'summary-overview', s.summary.overview));
    if (s.summary.decisions?.length) {
      parts.push(el('h4', '', 'Decisions'));
      const ul = el('ul', 'summary-decisions');
      for (const d of s.summary.decisions) ul.append(el('li', '', d));
      parts.push(ul);
    }
    if (s.summary.actionItems?.length) {
      parts.push(el('h4', '', 'Action items'));
      const ul = el('ul', 'summary-actions');
      for (const a of s.summary.actionItems) ul.append(el('li', '', `${a.task}${a.owner ? ` — ${a.owner}` : ''}${a.due ? ` (due ${a.due})` : ''}`));
      parts.push(ul);
    }
  }
  if (s.notes) {
    if (s.summary) parts.push(el('h4', '', 'Live notes'));
    parts.push(el('div', 'summary-notes', s.notes));
  }
  box.replaceChildren(...parts);
}

/** A stream was selected: show its stored notes or summary, if any. */
export async function loadSummary(id) {
  current = id;
  shownAt = 0;
  const p = panel();
  if (p) p.hidden = true;
  document.getElementById('summary')?.replaceChildren();
  try {
    const r = await fetch(`/api/streams/${encodeURIComponent(id)}/summary`, { credentials: 'same-origin', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    if (!r.ok || current !== id) return;
    const s = await r.json();
    if (current === id) render({ ...s, summary: s.summary ?? undefined });
  } catch {
    // No summary (404) or unreachable: the panel stays hidden until a live message arrives.
  }
}

/** A `summary` message of the live feed. */
export function onSummaryMessage(m) {
  if (m.streamId !== current) return;
  render(m);
}
