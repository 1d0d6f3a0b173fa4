/**
 * The dashboard: one self-contained page (no framework, no build step) that lists live and past
 * streams, shows the rolling transcript with speakers and times, chat, and searches every transcript.
 * It polls the JSON API once a second; the token (if any) is taken from `?token=` and forwarded.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>openrtms</title>
<style>
:root{--bg:#0f1115;--panel:#171a21;--line:#262b36;--text:#e6e8ee;--muted:#8b93a7;--accent:#4f8cff;--ok:#35c48b;--warn:#f2b84b}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:var(--bg);color:var(--text)}
header{display:flex;gap:16px;align-items:center;padding:12px 20px;border-bottom:1px solid var(--line)}
header h1{font-size:16px;margin:0}header .muted{margin-left:auto}
main{display:grid;grid-template-columns:320px 1fr;height:calc(100vh - 50px)}
aside{border-right:1px solid var(--line);overflow:auto}
.stream{padding:10px 16px;border-bottom:1px solid var(--line);cursor:pointer}.stream:hover,.stream.sel{background:var(--panel)}
.badge{display:inline-block;font-size:11px;padding:1px 7px;border-radius:9px;background:var(--line);color:var(--muted);margin-right:6px}
.badge.live{background:rgba(53,196,139,.15);color:var(--ok)}.badge.rec{background:rgba(242,184,75,.12);color:var(--warn)}
.muted{color:var(--muted)}section{padding:16px 22px;overflow:auto}
#transcript div,#chat div,#hits div{padding:4px 0;border-bottom:1px solid var(--line)}
.t{color:var(--muted);font-variant-numeric:tabular-nums;margin-right:8px}.who{color:var(--accent);font-weight:600;margin-right:6px}
.cols{display:grid;grid-template-columns:2fr 1fr;gap:22px}
input{background:var(--panel);color:var(--text);border:1px solid var(--line);border-radius:6px;padding:6px 10px;width:280px}
mark{background:rgba(79,140,255,.35);color:inherit}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
.files{margin:8px 0 10px;line-height:1.9}audio{height:36px}
</style></head><body>
<header><h1>openrtms</h1><input id="q" placeholder="Search every transcript and chat…"><span class="muted" id="status">connecting…</span></header>
<main><aside id="streams"></aside>
<section><div id="detail" class="muted">Select a stream.</div>
<div id="hits"></div>
<div class="cols"><div><h3>Transcript</h3><div id="transcript"></div></div><div><h3>Chat</h3><div id="chat"></div></div></div></section></main>
<script>
const token = new URLSearchParams(location.search).get('token');
const api = (p) => fetch(p + (token ? (p.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token) : '')).then((r) => r.ok ? r.json() : Promise.reject(r.status));
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const time = (ms) => new Date(ms).toLocaleTimeString();
let selected = null;
async function refresh() {
  try {
    const { streams } = await api('/api/streams');
    document.getElementById('status').textContent = streams.length + ' stream(s)';
    if (!selected && streams[0]) selected = streams[0].rtmsStreamId;
    document.getElementById('streams').innerHTML = streams.map((s) => {
      const live = s.live && (s.live.state === 'ready' || s.live.state === 'reconnecting' || s.live.state === 'connecting');
      const frames = s.live ? s.live.frames.audio : (s.stats && s.stats.frames_audio) || 0;
      return '<div class="stream' + (s.rtmsStreamId === selected ? ' sel' : '') + '" data-id="' + esc(s.rtmsStreamId) + '">'
        + '<span class="badge ' + (live ? 'live' : '') + '">' + (live ? 'live' : esc(s.state || 'ended')) + '</span><span class="badge">' + esc(s.product) + '</span>'
        + '<div>' + esc(s.meetingUuid) + '</div><div class="muted">' + time(s.startedAt) + ' · ' + frames + ' audio frames</div></div>';
    }).join('');
    for (const el of document.querySelectorAll('.stream')) el.onclick = () => { selected = el.dataset.id; refresh(); };
    if (selected) {
      const id = encodeURIComponent(selected);
      const [{ transcript }, { chat }] = await Promise.all([api('/api/streams/' + id + '/transcript'), api('/api/streams/' + id + '/chat')]);
      const files = await api('/api/streams/' + id + '/files').then((r) => r.files).catch(() => []);
      const link = (f) => '/api/streams/' + id + '/files/' + f.path + (token ? '?token=' + encodeURIComponent(token) : '');
      const audio = files.filter((f) => f.path.endsWith('.wav'));
      const detail = document.getElementById('detail');
      const key = files.map((f) => f.path + f.bytes).join();
      if (detail.dataset.key !== key) {
        detail.dataset.key = key;
        detail.innerHTML = 'Stream <b>' + esc(selected) + '</b> · <a href="/api/streams/' + id + '/transcript?format=vtt">VTT</a> · <a href="/api/streams/' + id + '/transcript?format=srt">SRT</a>'
          + '<div class="files">' + files.map((f) => '<a href="' + link(f) + '">' + esc(f.path) + '</a> <span class="muted">' + (f.bytes < 1024 ? f.bytes + ' B' : Math.round(f.bytes / 1024) + ' KB') + '</span>').join(' · ') + '</div>'
          + audio.slice(0, 1).map((f) => '<audio controls preload="none" src="' + link(f) + '"></audio>').join('');
      }
      const t = document.getElementById('transcript');
      t.innerHTML = transcript.map((x) => '<div><span class="t">' + time(x.timestamp) + '</span><span class="who">' + esc(x.userName) + '</span>' + esc(x.text) + '</div>').join('');
      document.getElementById('chat').innerHTML = chat.map((x) => '<div><span class="who">' + esc(x.userName) + '</span>' + esc(x.text) + '</div>').join('');
    }
  } catch (e) { document.getElementById('status').textContent = e === 401 ? 'unauthorized: add ?token=' : 'server unreachable'; }
}
document.getElementById('q').addEventListener('input', async (ev) => {
  const q = ev.target.value.trim();
  const box = document.getElementById('hits');
  if (!q) { box.innerHTML = ''; return; }
  const { hits } = await api('/api/search?q=' + encodeURIComponent(q)).catch(() => ({ hits: [] }));
  box.innerHTML = '<h3>' + hits.length + ' result(s)</h3>' + hits.map((h) => '<div><span class="t">' + time(h.timestamp) + '</span><span class="who">' + esc(h.speaker) + '</span>' + h.snippet + '</div>').join('');
});
refresh(); setInterval(refresh, 500);
</script></body></html>`;
