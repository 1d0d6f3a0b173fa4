// Speech-to-text tracks beside Zoom's transcript: one panel per provider track (`source`), loaded
// from GET /api/streams/:id/transcript?source=… and kept up to date from the live feed's
// transcript messages that carry that source. Zoom's own track stays in #transcript (app.js).

const enc = encodeURIComponent;
const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

/** Track panels of the selected stream. `container` holds them; `fetchJson(path)` reads the API. */
export function createTracks(container, fetchJson) {
  let streamId = null;
  /** source → { box, count, keys:Set } */
  let panels = new Map();

  function panel(source) {
    let p = panels.get(source);
    if (p) return p;
    const root = el('div', 'panel track');
    root.dataset.track = source;
    const head = el('h3', '', `Transcript · ${source} `);
    const count = el('span', 'muted');
    head.append(count);
    const links = el('span', 'links');
    const base = `/api/streams/${enc(streamId)}/transcript`;
    for (const [label, q] of [['VTT', '&format=vtt'], ['SRT', '&format=srt'], ['JSON', '']]) {
      const a = el('a', '', label);
      a.href = `${base}?source=${enc(source)}${q}`;
      a.target = '_blank';
      links.append(a);
    }
    head.append(links);
    const box = el('div', 'scroll');
    root.append(head, box);
    container.append(root);
    container.hidden = false;
    p = { box, count, keys: new Set() };
    panels.set(source, p);
    return p;
  }

  /** One segment; segments arrive per speaker connection, so a line goes in its time order. */
  function add(t, fresh = true) {
    if (!streamId || !t.source || t.source === 'zoom') return;
    const p = panel(t.source);
    const key = `${t.startTime ?? t.timestamp}|${t.userId}|${t.text}`;
    if (p.keys.has(key)) return;
    p.keys.add(key);
    const at = t.startTime ?? t.timestamp;
    const line = el('div', `line${fresh ? ' fresh' : ''}`);
    line.dataset.at = String(at);
    line.append(el('span', 't', clock(at)), el('span', 'who', t.userName || `user ${t.userId}`), document.createTextNode(t.text));
    const stick = p.box.scrollTop + p.box.clientHeight >= p.box.scrollHeight - 30;
    const after = [...p.box.children].find((c) => Number(c.dataset.at) > at);
    p.box.insertBefore(line, after ?? null);
    p.count.textContent = `· ${p.keys.size} line${p.keys.size === 1 ? '' : 's'} `;
    if (stick) p.box.scrollTop = p.box.scrollHeight;
  }

  return {
    /** A new stream is selected: panels cleared. */
    reset(id) {
      streamId = id;
      panels = new Map();
      container.replaceChildren();
      container.hidden = true;
    },
    /** The stream's detail arrived: a panel per provider track, filled from the API. */
    async load(id, detail) {
      const sources = (detail?.transcriptSources ?? []).filter((s) => s !== 'zoom');
      for (const source of sources) {
        panel(source);
        const r = await fetchJson(`/api/streams/${enc(id)}/transcript?source=${enc(source)}`).catch(() => null);
        if (streamId !== id) return;
        for (const t of r?.transcript ?? []) add(t, false);
      }
    },
    add,
  };
}
