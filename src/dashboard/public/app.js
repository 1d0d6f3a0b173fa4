// openrtms dashboard: meetings list (REST), one meeting's live view (WebSocket /api/live), search.
// Plain ES module, no framework. Auth rides on the HttpOnly cookie the server sets from ?token=.
import { createTracks } from './tracks.js';
import { loadSummary, onSummaryMessage } from './summary.js';
import { initPlayer, seekTo, showStream, streamEnded } from './player.js';

const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
const api = async (path) => {
  // A request the server never answers must not wedge the view: the periodic refreshes try again.
  const r = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  if (!r.ok) throw Object.assign(new Error(`HTTP ${r.status}`), { status: r.status });
  return r.json();
};
const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const day = (ms) => new Date(ms).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const size = (b) => (b < 1024 ? `${b} B` : b < 1 << 20 ? `${(b / 1024).toFixed(0)} KB` : `${(b / (1 << 20)).toFixed(1)} MB`);
const enc = encodeURIComponent;
const LIVE = new Set(['ready', 'connecting', 'reconnecting']);

// Speech-to-text tracks beside Zoom's transcript (tracks.js).
const tracks = createTracks(document.getElementById('tracks'), (path) => api(path));

const state = {
  streams: [],
  selected: null,
  view: null, // per selected stream: { id, lines:Set, people:Map, active, live }
  ws: null,
  wsBackoff: 500,
};

// ---------------------------------------------------------------- meetings list
async function loadStreams() {
  try {
    const { streams } = await api('/api/streams');
    state.streams = streams;
    const live = streams.filter(isLive).length;
    $('status-text').textContent = `${live} live · ${streams.length} meeting${streams.length === 1 ? '' : 's'}`;
    if (!state.selected && streams[0]) select(streams[0].rtmsStreamId);
    renderStreams();
  } catch (e) {
    $('status-text').textContent = e.status === 401 ? 'unauthorized: open /?token=<OPENRTMS_API_TOKEN>' : 'server unreachable';
  }
}
const isLive = (s) => !!(s.live && LIVE.has(s.live.state));

function renderStreams() {
  const box = $('streams');
  if (!state.streams.length) return;
  box.replaceChildren(
    ...state.streams.map((s) => {
      const row = el('div', `stream${s.rtmsStreamId === state.selected ? ' sel' : ''}`);
      row.setAttribute('role', 'listitem');
      row.dataset.id = s.rtmsStreamId;
      const live = isLive(s);
      const badges = el('div');
      badges.append(el('span', `badge ${live ? 'live' : s.live?.state === 'reconnecting' ? 'warn' : ''}`, live ? (s.live.state === 'ready' ? 'live' : s.live.state) : s.state === 'stopped' ? 'ended' : s.state || 'ended'), el('span', 'badge', s.product));
      // A paused app stays connected (live) but receives nothing until it resumes.
      if (s.state === 'paused') badges.append(el('span', 'badge warn', 'paused'));
      const people = s.live ? s.live.participants : (s.stats?.participants ?? '');
      row.append(badges, el('div', 'id', s.meetingUuid), el('div', 'muted', `${day(s.startedAt)}${people !== '' ? ` · ${people} people` : ''}`));
      row.title = `stream ${s.rtmsStreamId}`;
      row.onclick = () => select(s.rtmsStreamId);
      return row;
    }),
  );
}

// ---------------------------------------------------------------- one meeting
async function select(id) {
  if (state.selected === id && state.view) return;
  state.selected = id;
  const view = (state.view = { id, lines: new Set(), people: new Map(), chat: new Map(), active: null, buffered: [], loaded: false, filesKey: '' });
  renderStreams();
  $('empty').hidden = true;
  $('detail').hidden = false;
  for (const c of ['transcript', 'chat', 'people']) $(c).replaceChildren();
  tracks.reset(id);
  for (const f of document.querySelectorAll('#thumbs figure')) f.hidden = true;
  $('no-thumbs').hidden = false;
  $('files').replaceChildren(el('p', 'muted', 'Loading…'));
  subscribe();
  loadSummary(id);
  const base = `/api/streams/${enc(id)}`;
  const [detail, transcript, chat] = await Promise.all([api(base), api(`${base}/transcript`), api(`${base}/chat`)].map((p) => p.catch(() => null)));
  if (state.view !== view) return;
  renderTitle(detail);
  const lastPause = detail?.pauses?.at(-1);
  setPaused(!!detail?.live && !!lastPause && lastPause.end === undefined);
  for (const t of transcript?.transcript ?? []) addLine(t, false);
  void tracks.load(id, detail);
  for (const c of chat?.chat ?? []) addChat(c);
  if (view.people.size === 0) for (const p of detail?.present ?? []) person(p.userId, p.userName);
  if (view.people.size === 0 && !detail?.live) for (const p of detail?.participants ?? []) person(p.userId, p.userName);
  for (const kind of detail?.thumbnails ?? []) showThumb(kind, `${base}/thumbnail/${kind}`, Date.now());
  view.loaded = true;
  for (const m of view.buffered) onMessage(m);
  view.buffered = [];
  loadFiles();
}

function renderTitle(d) {
  if (!d) return;
  const live = d.live && LIVE.has(d.live.state);
  $('d-title').textContent = d.meetingUuid;
  $('d-sub').textContent = `${d.product} · stream ${d.rtmsStreamId} · started ${day(d.startedAt)}${d.stoppedAt ? ` · ended ${clock(d.stoppedAt)}` : ''}${live ? ' · live' : ''}`;
  const base = `/api/streams/${enc(d.rtmsStreamId)}/transcript`;
  const links = $('d-links');
  links.replaceChildren();
  for (const [label, href] of [['Transcript VTT', `${base}?format=vtt`], ['SRT', `${base}?format=srt`], ['JSON', base]]) {
    const a = el('a', '', label);
    a.href = href;
    a.target = '_blank';
    links.append(a);
  }
  showStream(d); // player.js: watch live, or play the recording
}

function addLine(t, fresh) {
  const view = state.view;
  const key = `${t.timestamp}|${t.userId}|${t.text}`;
  if (view.lines.has(key)) return;
  view.lines.add(key);
  const box = $('transcript');
  const stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 30;
  const line = el('div', `line${fresh ? ' fresh' : ''}`);
  const time = el('span', 't', clock(t.timestamp));
  line.append(time, el('span', 'who', t.userName || `user ${t.userId}`), document.createTextNode(t.text));
  // Replay: a click plays the recording from this line.
  line.dataset.ts = String(t.startTime ?? t.timestamp);
  line.onclick = () => seekTo(view.id, Number(line.dataset.ts));
  box.append(line);
  $('t-count').textContent = `· ${view.lines.size} line${view.lines.size === 1 ? '' : 's'}`;
  if (stick) box.scrollTop = box.scrollHeight;
}

/**
 * Chat as it stands: a message is added once, an `update` replaces its text, a `delete` removes it, a
 * `reaction` redraws its reactions (messages are kept by messageId; plain-text chat has none).
 */
function addChat(c) {
  const view = state.view;
  const box = $('chat');
  const op = c.operation || 'new';
  const known = c.messageId ? view.chat.get(c.messageId) : undefined;
  if (op === 'delete') {
    known?.line.remove();
    if (c.messageId) view.chat.delete(c.messageId);
    return;
  }
  if (known && op !== 'new') {
    if (op === 'update') {
      known.text.textContent = c.text;
      known.edited.hidden = false;
    }
    if (c.reactions) renderReactions(known.reactions, c.reactions);
    return;
  }
  if (known) return;
  const line = el('div', `line${c.parentMessageId ? ' reply' : ''}`);
  if (c.messageId) line.dataset.messageId = c.messageId;
  const who = el('span', 'who', `${c.parentMessageId ? '↳ ' : ''}${c.userName || `user ${c.userId}`}`);
  const audience = c.chatSession && c.chatSession.type !== 1 ? el('span', 'muted', c.receiver ? ` → ${c.receiver.userName || c.receiver.userId} (private) ` : ' (group) ') : null;
  const text = el('span', 'text', c.text);
  const edited = el('span', 'muted', ' (edited)');
  edited.hidden = c.editedAt === undefined && op !== 'update';
  const reactions = el('span', 'reactions');
  renderReactions(reactions, c.reactions || []);
  line.append(el('span', 't', clock(c.timestamp)), who, ...(audience ? [audience] : []), text, edited, reactions);
  if (c.messageId) view.chat.set(c.messageId, { line, text, edited, reactions });
  box.append(line);
  box.scrollTop = box.scrollHeight;
}

function renderReactions(box, reactions) {
  box.replaceChildren(...reactions.map((r) => el('span', 'badge', `${r.emoji} ${r.count ?? r.users?.length ?? 1}`)));
}

/** The selected stream's "paused" badge (the app is connected but Zoom sends nothing). */
function setPaused(paused) {
  let badge = $('d-paused');
  if (!badge) {
    badge = el('span', 'badge warn', 'paused');
    badge.id = 'd-paused';
    badge.dataset.state = 'paused';
    $('d-title').after(badge);
  }
  badge.hidden = !paused;
}

function person(userId, userName) {
  const view = state.view;
  let p = view.people.get(userId);
  if (!p) {
    const li = el('li');
    li.dataset.user = userId;
    const name = el('span', 'name');
    const meter = el('div', 'meter');
    const bar = el('div');
    meter.append(bar);
    const db = el('span', 'db', '—');
    li.append(name, meter, db);
    p = { li, name, bar, db, at: 0 };
    view.people.set(userId, p);
    const list = $('people');
    if (userId === '0') list.prepend(li);
    else list.append(li);
    $('people-count').textContent = `· ${[...view.people.keys()].filter((k) => k !== '0').length}`;
  }
  if (userName) p.name.textContent = userName;
  else if (!p.name.textContent) p.name.textContent = `user ${userId}`;
  p.li.classList.toggle('speaking', view.active === userId);
  return p;
}

function level(m) {
  const p = person(m.userId, m.userName);
  const pct = Math.max(0, Math.min(100, ((m.dbfs + 60) / 60) * 100));
  p.bar.style.width = `${pct.toFixed(0)}%`;
  p.db.textContent = m.dbfs <= -100 ? 'silent' : `${m.dbfs.toFixed(0)} dB`;
  p.at = performance.now();
}

function setActive(userId, userName) {
  const view = state.view;
  view.active = userId;
  if (userId !== null) person(userId, userName);
  for (const [id, p] of view.people) p.li.classList.toggle('speaking', id === userId);
}

/** A JPEG/PNG still, or (a server without ffmpeg) a one-frame MP4 of a keyframe that the browser decodes. */
async function showThumb(kind, url, t) {
  const fig = document.querySelector(`#thumbs figure[data-kind="${kind}"]`);
  if (!fig) return;
  const r = await fetch(`${url}${url.includes('?') ? '&' : '?'}t=${t}`, { credentials: 'same-origin' }).catch(() => null);
  if (!r?.ok) return;
  const blob = await r.blob();
  const isVideo = blob.type === 'video/mp4';
  let still = fig.querySelector(isVideo ? 'video' : 'img');
  if (!still) {
    still = el('video');
    still.muted = true;
    still.preload = 'auto';
    fig.prepend(still);
  }
  const other = fig.querySelector(isVideo ? 'img' : 'video');
  if (other) other.hidden = true;
  const old = still.dataset.url;
  still.dataset.url = URL.createObjectURL(blob);
  still.src = still.dataset.url;
  still.hidden = false;
  if (old) setTimeout(() => URL.revokeObjectURL(old), 1000);
  fig.hidden = false;
  $('no-thumbs').hidden = true;
}

async function loadFiles() {
  const view = state.view;
  const id = view.id;
  const res = await api(`/api/streams/${enc(id)}/files`).catch(() => ({ files: [] }));
  if (state.view !== view) return;
  const files = res.files.sort((a, b) => (a.path === 'audio/mixed.wav' ? -1 : b.path === 'audio/mixed.wav' ? 1 : a.path.localeCompare(b.path)));
  const key = files.map((f) => `${f.path}:${f.bytes}`).join();
  if (key === view.filesKey) return;
  const firstTime = view.filesKey === '';
  view.filesKey = key;
  const box = $('files');
  if (!files.length) return box.replaceChildren(el('p', 'muted', 'Nothing recorded yet.'));
  if (!firstTime && [...box.querySelectorAll('audio')].some((a) => !a.paused)) return; // never interrupt playback
  const list = el('ul');
  for (const f of files) {
    const li = el('li');
    const a = el('a', '', f.path);
    const who = /^(?:audio|video)\/(.+)\.(?:wav|mp4)$/.exec(f.path);
    const name = who && view.people.get(who[1])?.name.textContent;
    a.href = `/api/streams/${enc(id)}/files/${f.path.split('/').map(enc).join('/')}`;
    a.download = `${id}-${f.path.replaceAll('/', '-')}`;
    li.append(a, el('span', 'size', `${name ? `${name} · ` : ''}${size(f.bytes)}`));
    if (f.path.endsWith('.wav')) {
      const audio = el('audio');
      audio.controls = true;
      audio.preload = 'none';
      audio.src = a.href;
      li.append(audio);
    }
    list.append(li);
  }
  box.replaceChildren(list);
}

// ---------------------------------------------------------------- live feed
function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live`);
  state.ws = ws;
  ws.onopen = () => {
    state.wsBackoff = 500;
    $('conn').className = 'dot on';
    subscribe();
  };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.type === 'stream') {
      loadStreams();
      if (m.action === 'ended' && state.view && m.streamId === state.view.id) ended();
      return;
    }
    if (m.type === 'hello' || m.type === 'pong') return;
    const view = state.view;
    if (!view || m.streamId !== view.id) return;
    if (!view.loaded) return void view.buffered.push(m);
    onMessage(m);
  };
  ws.onclose = () => {
    $('conn').className = 'dot off';
    state.ws = null;
    setTimeout(connect, (state.wsBackoff = Math.min(state.wsBackoff * 2, 8000)));
  };
}

function subscribe() {
  if (state.ws?.readyState === 1 && state.selected) state.ws.send(JSON.stringify({ type: 'subscribe', streamId: state.selected }));
}

function onMessage(m) {
  switch (m.type) {
    case 'transcript':
      return m.source && m.source !== 'zoom' ? tracks.add(m) : addLine(m, true);
    case 'chat':
      return addChat(m);
    case 'level':
      return level(m);
    case 'active_speaker':
      return setActive(m.userId, m.userName);
    case 'participant': {
      if (m.action === 'join') person(m.userId, m.userName);
      else {
        state.view.people.get(m.userId)?.li.remove();
        state.view.people.delete(m.userId);
      }
      return;
    }
    case 'snapshot': {
      setPaused(m.state === 'paused');
      for (const p of m.participants) {
        const row = person(p.userId, p.userName);
        if (p.dbfs !== undefined) level({ ...p, dbfs: p.dbfs });
        void row;
      }
      if (m.activeSpeaker) setActive(m.activeSpeaker.userId, m.activeSpeaker.userName);
      for (const t of m.thumbnails) showThumb(t.kind, t.url, t.timestamp);
      return;
    }
    case 'thumbnail':
      return showThumb(m.kind, m.url, m.timestamp);
    case 'summary':
      return onSummaryMessage(m);
    case 'state':
      if (m.state === 'paused' || m.state === 'resumed') {
        setPaused(m.state === 'paused');
        loadStreams();
      }
      if (m.state === 'joined' || m.state === 'reconnecting') loadStreams();
      if (m.state === 'closed') ended();
      return;
  }
}

/** The selected meeting ended: final title, nobody speaking, final file list. */
async function ended() {
  const view = state.view;
  setActive(null);
  streamEnded(view.id);
  const detail = await api(`/api/streams/${enc(view.id)}`).catch(() => null);
  if (state.view !== view) return;
  renderTitle(detail);
  setTimeout(loadFiles, 1500); // the recorder writes its last files while closing
}

// Meters fall back to silence when a participant's audio stops arriving.
setInterval(() => {
  const now = performance.now();
  for (const p of state.view?.people.values() ?? []) {
    if (p.at && now - p.at > 600) {
      p.bar.style.width = '0%';
      p.db.textContent = '—';
      p.at = 0;
    }
  }
}, 300);

// ---------------------------------------------------------------- search
let searchTimer;
let searchSeq = 0;
$('q').addEventListener('input', (ev) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => search(ev.target.value.trim()), 150);
});
async function search(q) {
  const box = $('hits');
  const seq = ++searchSeq;
  if (!q) {
    box.hidden = true;
    return box.replaceChildren();
  }
  const { hits } = await api(`/api/search?q=${enc(q)}`).catch(() => ({ hits: [] }));
  if (seq !== searchSeq) return;
  box.hidden = false;
  box.replaceChildren(el('h3', '', `${hits.length} result(s)`));
  for (const h of hits) {
    const row = el('div', 'hit');
    const meeting = state.streams.find((s) => s.rtmsStreamId === h.rtmsStreamId);
    const text = el('span');
    text.innerHTML = h.snippet; // server-escaped, only <mark> tags
    row.append(el('span', 't', `${day(h.timestamp)}`), el('span', 'who', h.speaker || '?'), text, el('span', 'muted', ` — ${h.kind}${h.source && h.source !== 'zoom' ? ` (${h.source})` : ''} in ${meeting ? meeting.meetingUuid : h.rtmsStreamId}`));
    // A hit plays the recording from there (a live meeting just opens).
    row.onclick = () => select(h.rtmsStreamId).then(() => seekTo(h.rtmsStreamId, h.timestamp));
    box.append(row);
  }
}

// ---------------------------------------------------------------- alerts
// Coded alerts with guidance (GET /api/alerts). Their text comes from webhooks: rendered as text only.
async function loadAlerts() {
  let alerts;
  try {
    ({ alerts } = await api('/api/alerts?limit=20'));
  } catch {
    return;
  }
  $('alerts-panel').hidden = alerts.length === 0;
  const box = $('alerts');
  box.replaceChildren();
  for (const a of alerts) {
    const li = el('li', 'alert');
    li.dataset.code = a.code;
    li.append(el('div', 'alert-head', `${clock(a.at)} · ${a.code}${a.status !== undefined ? ` (status ${a.status})` : ''}`));
    li.append(el('div', 'alert-msg', a.message));
    if (a.guidance?.causes?.[0]) li.append(el('div', 'muted', `Likely: ${a.guidance.causes[0]}`));
    if (a.guidance?.fixes?.[0]) li.append(el('div', 'muted', `Fix: ${a.guidance.fixes[0]}`));
    box.append(li);
  }
}

// ---------------------------------------------------------------- delivery
// Destinations of the config file (GET /api/delivery): figures, and a replay button for dead letters.
// Names and targets come from the config file: rendered as text only.
async function loadDelivery() {
  let destinations;
  try {
    ({ destinations } = await api('/api/delivery'));
  } catch {
    return;
  }
  $('delivery-panel').hidden = destinations.length === 0;
  const box = $('delivery');
  box.replaceChildren();
  for (const d of destinations) {
    const s = d.stats;
    const li = el('li', 'destination');
    li.dataset.destination = d.name;
    li.append(el('div', 'alert-head', `${d.name} · ${d.type}`), el('div', 'muted', d.target));
    li.append(el('div', '', `queued ${s.queued} · delivered ${s.delivered} · retried ${s.retried} · failed ${s.failed}${s.lagMs ? ` · lag ${Math.round(s.lagMs / 1000)} s` : ''}`));
    if (s.failed > 0 && d.type === 'webhook') {
      const b = el('button', '', `Replay ${s.failed} dead letter${s.failed === 1 ? '' : 's'}`);
      b.dataset.action = 'replay';
      b.onclick = async () => {
        b.disabled = true;
        try {
          const r = await fetch('/api/delivery/dead-letters/replay', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ destination: d.name }) });
          if (!r.ok) throw new Error(`HTTP ${r.status}`);
        } catch (e) {
          b.textContent = `Replay failed (${e.message})`;
        }
        loadDelivery();
      };
      li.append(b);
    }
    box.append(li);
  }
}

// ---------------------------------------------------------------- start
initPlayer(() => [...(state.view?.people ?? [])].map(([userId, p]) => ({ userId, userName: p.name.textContent })));
loadDelivery();
setInterval(loadDelivery, 5000);
loadAlerts();
setInterval(loadAlerts, 5000);
loadStreams();
setInterval(loadStreams, 5000);
setInterval(() => state.view && state.view.loaded && loadFiles(), 4000);
connect();
