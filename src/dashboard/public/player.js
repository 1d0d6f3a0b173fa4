// openrtms player: a live meeting's picture and sound, or its recording after it ended.
//
// Live: /api/live/media (WebSocket) sends each camera/share frame as a fragmented-MP4 fragment
// (RTMS H.264, never transcoded) that Media Source Extensions play, JPG/PNG frames as images, and
// decoded PCM that an AudioWorklet (audio-worklet.js) plays from a ~150 ms jitter buffer. The audio
// clock is the master: the video is steered (playback rate, or a jump after a stall) onto the RTMS
// timestamp being heard; without audio it stays just behind the newest frame.
// Replay: the recording's MP4 and WAV through the same stage, the WAV as the clock, the transcript
// highlighted in time; a click on a transcript line or a search hit seeks there.
//
// Test hooks (ARCHITECTURE.md): [data-action="watch-live"] opens it, <video data-live="video"> is the
// camera, [data-live="audio"] carries data-audio-rms (RMS of what is actually played, after mute).

const enc = encodeURIComponent;
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
const td = new TextDecoder();

let people = () => [];
let current = null; // the open player (LivePlayer | ReplayPlayer)
let shown = null; // { id, live }

/** Once, from app.js: how to list the selected meeting's participants. */
export function initPlayer(getPeople) {
  people = getPeople;
}

/** The selected meeting's detail (from app.js): offers "Watch live" or "Play recording". */
export function showStream(d) {
  const slot = document.getElementById('player-slot');
  if (!slot || !d) return;
  const live = !!d.live && ['ready', 'connecting', 'reconnecting'].includes(d.live.state);
  if (shown?.id === d.rtmsStreamId && shown.live === live && slot.firstChild) return;
  if (shown?.id !== d.rtmsStreamId || (shown.live && !live)) closePlayer();
  shown = { id: d.rtmsStreamId, live };
  const bar = el('div', 'player-bar');
  const button = el('button', 'primary', live ? '▶ Watch live' : '▶ Play recording');
  button.dataset.action = 'watch-live';
  button.onclick = () => openPlayer();
  bar.append(button);
  if (current) button.hidden = true;
  slot.replaceChildren(bar, ...(current ? [current.root] : []));
}

/** The selected meeting ended while shown: the live player becomes a "Play recording" offer. */
export function streamEnded(id) {
  if (shown?.id !== id) return;
  current?.ended?.();
}

/** Seeks the recording of `id` to `ts` (RTMS ms), opening the replay; for a live meeting, nothing. */
export function seekTo(id, ts) {
  if (shown?.id !== id || shown.live) return;
  if (!(current instanceof ReplayPlayer)) openPlayer();
  current.seek(ts);
}

function openPlayer() {
  if (!shown) return;
  closePlayer();
  const slot = document.getElementById('player-slot');
  current = shown.live ? new LivePlayer(shown.id) : new ReplayPlayer(shown.id);
  slot.querySelector('[data-action="watch-live"]').hidden = true;
  slot.append(current.root);
}

function closePlayer() {
  current?.close();
  current = null;
  const b = document.querySelector('#player-slot [data-action="watch-live"]');
  if (b) b.hidden = false;
}

// ---------------------------------------------------------------- shared stage

function stage() {
  const root = el('div', 'panel player');
  const tiles = el('div', 'stage');
  const tile = (label) => {
    const fig = el('figure', 'tile');
    const video = el('video');
    video.muted = true;
    video.playsInline = true;
    const img = el('img');
    img.hidden = true;
    img.alt = label;
    fig.append(video, img, el('figcaption', '', label));
    tiles.append(fig);
    return { fig, video, img };
  };
  const cam = tile('Camera');
  cam.video.dataset.live = 'video';
  const share = tile('Screen share');
  share.fig.hidden = true;
  const controls = el('div', 'controls');
  const meter = el('span', 'level');
  meter.dataset.live = 'audio';
  meter.dataset.audioRms = '0';
  meter.append(el('span', 'bar'));
  const status = el('span', 'muted status');
  const close = el('button', '', 'Close');
  close.dataset.action = 'close-player';
  close.onclick = () => closePlayer();
  root.append(tiles, controls);
  return { root, cam, share, controls, meter, status, closeBtn: close };
}

function setLevel(meter, rms) {
  meter.dataset.audioRms = rms.toFixed(5);
  const db = rms > 0 ? 20 * Math.log10(rms) : -100;
  meter.firstChild.style.width = `${Math.max(0, Math.min(100, ((db + 60) / 60) * 100)).toFixed(0)}%`;
}

/** Steers a video element onto `target` seconds: small errors by playback rate, large ones by a jump. */
function steer(video, target) {
  const err = video.currentTime - target;
  if (video.paused) video.play().catch(() => {});
  // Further off than a few frames (a stall, a start, the audio skipping ahead): jump, within the
  // buffered range; closer: converge within about a second by playback rate.
  if (Math.abs(err) > 0.2) {
    video.currentTime = target;
    video.playbackRate = 1;
    return true;
  }
  video.playbackRate = Math.abs(err) < 0.01 ? 1 : Math.min(1.5, Math.max(0.6, 1 - err * 3));
  return false;
}

// ---------------------------------------------------------------- live

/** One MSE-fed video track (camera or share), or images for JPG/PNG streams. */
class MseTrack {
  constructor(tile) {
    this.tile = tile;
    this.video = tile.video;
    this.queue = [];
    this.ms = null;
    this.sb = null;
    this.codec = null;
    this.base = null;
    this.waitKey = false;
    this.dropped = 0;
    this.lastAt = 0;
    this.lastTs = 0;
    this.imageUrl = null;
  }

  init(meta, bytes) {
    this.base = meta.base;
    this.video.dataset.base = String(meta.base);
    this.video.hidden = false;
    this.tile.img.hidden = true;
    if (!this.ms) {
      this.codec = meta.codec;
      this.ms = new MediaSource();
      this.video.src = URL.createObjectURL(this.ms);
      this.ms.addEventListener('sourceopen', () => this.#open(), { once: true });
    } else if (meta.codec !== this.codec) {
      this.codec = meta.codec;
      this.queue.push({ changeType: `video/mp4; codecs="${meta.codec}"` });
    }
    this.queue.push({ data: bytes, init: true });
    this.#pump();
  }

  #open() {
    const type = `video/mp4; codecs="${this.codec}"`;
    if (!MediaSource.isTypeSupported(type)) {
      this.tile.fig.querySelector('figcaption').textContent = `This browser cannot play ${this.codec}`;
      return;
    }
    this.sb = this.ms.addSourceBuffer(type);
    this.sb.mode = 'segments'; // the fragments carry RTMS timestamps: media time = (timestamp − base) / 1000
    this.sb.addEventListener('updateend', () => this.#pump());
    this.#pump();
  }

  frame(key, ts, bytes) {
    this.tile.fig.hidden = false;
    this.lastAt = performance.now();
    this.lastTs = ts;
    // The decoder is falling behind: keep only what is needed to restart at the next keyframe.
    if (this.queue.length > 50) {
      this.dropped += this.queue.filter((q) => !q.init && !q.changeType).length;
      this.queue = this.queue.filter((q) => q.init || q.changeType);
      this.waitKey = true;
    }
    if (this.waitKey && !key) return void this.dropped++;
    this.waitKey = false;
    this.queue.push({ data: bytes });
    this.#pump();
  }

  image(png, bytes) {
    this.tile.fig.hidden = false;
    this.lastAt = performance.now();
    const url = URL.createObjectURL(new Blob([bytes], { type: png ? 'image/png' : 'image/jpeg' }));
    const old = this.imageUrl;
    this.imageUrl = url;
    this.tile.img.onload = () => old && URL.revokeObjectURL(old);
    this.tile.img.src = url;
    this.tile.img.hidden = false;
    if (!this.ms) this.video.hidden = true;
  }

  #pump() {
    const sb = this.sb;
    if (!sb || sb.updating || this.ms.readyState !== 'open') return;
    const next = this.queue.shift();
    if (!next) return this.#trim();
    try {
      if (next.changeType) {
        sb.changeType?.(next.changeType);
        return this.#pump();
      }
      sb.appendBuffer(next.data);
    } catch {
      // QuotaExceeded or a decode error: start again from the next keyframe.
      this.waitKey = true;
      this.queue = this.queue.filter((q) => q.init || q.changeType);
    }
  }

  /** Keeps ~5 s behind the playhead: a long meeting does not grow the page's memory. */
  #trim() {
    const b = this.video.buffered;
    if (!b.length || this.video.currentTime - b.start(0) < 15) return;
    try {
      this.sb.remove(0, this.video.currentTime - 5);
    } catch {
      /* updating: next time */
    }
  }

  bufferedEnd() {
    const b = this.video.buffered;
    return b.length ? b.end(b.length - 1) : null;
  }

  close() {
    if (this.video.src) URL.revokeObjectURL(this.video.src);
    if (this.imageUrl) URL.revokeObjectURL(this.imageUrl);
    this.video.removeAttribute('src');
    this.video.load();
  }
}

class LivePlayer {
  constructor(id) {
    this.id = id;
    const s = stage();
    Object.assign(this, s);
    this.tracks = [new MseTrack(s.cam), new MseTrack(s.share)];
    this.report = null;
    this.seeks = 0;
    this.closed = false;
    // Controls: mute, what to hear (everyone or one speaker), whose camera.
    this.muteBtn = el('button', '', 'Mute');
    this.muteBtn.dataset.action = 'mute';
    this.muteBtn.onclick = () => this.#mute(!this.muted);
    this.muted = false;
    this.speakers = new Set(); // participants whose own audio arrives (per-speaker audio)
    this.hear = el('select');
    this.hear.dataset.action = 'audio-source';
    this.hear.title = 'What you hear: everyone, or one speaker (solo)';
    this.hear.onchange = () => {
      const v = this.hear.value;
      this.#send(v ? { type: 'audio', mode: 'solo', userId: v } : { type: 'audio', mode: 'mixed' });
      this.node?.port.postMessage({ type: 'reset' });
    };
    this.camera = el('select');
    this.camera.dataset.action = 'camera';
    this.camera.title = 'Whose camera: the active speaker, or one participant (asks Zoom for their video)';
    this.camera.onchange = () => this.#send({ type: 'video-user', userId: this.camera.value || null });
    this.controls.append(this.muteBtn, this.hear, this.camera, this.meter, this.status, this.closeBtn);
    this.#options();
    this.optionsTimer = setInterval(() => this.#options(), 2000);
    this.#audio(); // inside the click that opened the player: the browser lets the context start
    this.#connect();
    this.timer = setInterval(() => this.#sync(), 40);
    window.__openrtmsPlayer = this;
  }

  #options() {
    const list = people().filter((p) => p.userId !== '0');
    const key = `${list.map((p) => `${p.userId}:${p.userName}`).join()}|${[...this.speakers].join()}`;
    if (key === this.optionsKey) return;
    this.optionsKey = key;
    const fill = (sel, first) => {
      const value = sel.value;
      sel.replaceChildren(el('option', '', first), ...list.map((p) => Object.assign(el('option', '', p.userName || `user ${p.userId}`), { value: p.userId })));
      sel.firstChild.value = '';
      sel.value = value;
    };
    fill(this.camera, 'Active speaker');
    // Solo needs per-speaker audio: offered for the participants whose own audio arrived.
    const value = this.hear.value;
    const solo = list.filter((p) => this.speakers.has(p.userId));
    this.hear.replaceChildren(Object.assign(el('option', '', 'Everyone (mixed)'), { value: '' }), ...solo.map((p) => Object.assign(el('option', '', `${p.userName || `user ${p.userId}`} only`), { value: p.userId })));
    this.hear.value = value;
    this.hear.disabled = solo.length === 0;
    this.hear.title = solo.length ? 'What you hear: everyone, or one speaker alone' : 'This stream sends mixed audio only: no speaker to hear alone';
  }

  #connect() {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live/media?stream=${enc(this.id)}`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onmessage = (ev) => this.#message(ev.data);
    ws.onclose = () => {
      if (this.closed || this.over) return;
      this.status.textContent = 'reconnecting…';
      setTimeout(() => !this.closed && this.#connect(), 1000);
    };
  }

  #send(cmd) {
    if (this.ws?.readyState === 1) this.ws.send(JSON.stringify(cmd));
  }

  #message(data) {
    if (typeof data === 'string') {
      const m = JSON.parse(data);
      if (m.type === 'ended') this.ended();
      else if (m.type === 'error') {
        this.over = true;
        this.status.textContent = m.message;
      } else if (m.type === 'video-user') {
        if (m.ok) this.videoUser = m.userId; // Zoom now sends this participant's camera (null: the active speaker)
        else this.status.textContent = m.message;
      }
      return;
    }
    this.#binary(data, 0, data.byteLength);
  }

  /** One binary message at [off, off + len) of `data` (see src/live/media.ts); kind 0 is a batch of them. */
  #binary(data, off, len) {
    const v = new DataView(data, off, len);
    const kind = v.getUint8(0);
    if (kind === 0) {
      for (let p = 1; p + 4 <= len; ) {
        const n = v.getUint32(p);
        this.#binary(data, off + p + 4, n);
        p += 4 + n;
      }
    } else if (kind === 1) {
      const n = v.getUint16(2);
      const meta = JSON.parse(td.decode(new Uint8Array(data, off + 4, n)));
      this.tracks[v.getUint8(1)]?.init(meta, new Uint8Array(data, off + 4 + n, len - 4 - n));
    } else if (kind === 2) {
      this.tracks[v.getUint8(1)]?.frame((v.getUint8(2) & 1) === 1, v.getFloat64(4), new Uint8Array(data, off + 12, len - 12));
    } else if (kind === 3) {
      const n = v.getUint16(2);
      const user = td.decode(new Uint8Array(data, off + 16, n));
      if (user !== '0' && !this.speakers.has(user)) this.speakers.add(user);
      const pcm = new Int16Array(data.slice(off + 16 + n, off + len)); // copied: aligned, and transferable
      this.node?.port.postMessage({ type: 'pcm', ts: v.getFloat64(8), rate: v.getUint32(4), channels: v.getUint8(1), pcm }, [pcm.buffer]);
    } else if (kind === 4) {
      this.tracks[v.getUint8(1)]?.image(v.getUint8(2) === 1, new Uint8Array(data, off + 12, len - 12));
    }
  }

  async #audio() {
    try {
      this.ctx = new AudioContext({ latencyHint: 'interactive' });
      await this.ctx.audioWorklet.addModule('/assets/audio-worklet.js');
      if (this.closed) return;
      this.node = new AudioWorkletNode(this.ctx, 'rtms-player', { numberOfInputs: 0, outputChannelCount: [1] });
      this.node.connect(this.ctx.destination);
      this.node.port.onmessage = (e) => {
        this.report = e.data;
        setLevel(this.meter, e.data.rms);
      };
      await this.ctx.resume();
    } catch (e) {
      this.status.textContent = `no sound: ${e.message}`;
    }
  }

  #mute(muted) {
    this.muted = muted;
    this.muteBtn.textContent = muted ? 'Unmute' : 'Mute';
    this.node?.port.postMessage({ type: 'mute', muted });
    if (!muted) this.ctx?.resume();
  }

  /** The RTMS timestamp (ms) being heard at `perfTime` (performance.now() time base), or null. */
  heardTs(perfTime = performance.now()) {
    const r = this.report;
    if (!r || r.playTs === null || !this.ctx || this.ctx.state !== 'running') return null;
    const o = this.ctx.getOutputTimestamp?.();
    if (o && o.performanceTime > 0) return r.playTs + (o.contextTime - r.ctxTime) * 1000 + (perfTime - o.performanceTime);
    // No output timestamp (some headless setups): the context's clock minus its reported latency.
    const lat = (this.ctx.baseLatency || 0) + (this.ctx.outputLatency || 0);
    return r.playTs + (this.ctx.currentTime - lat - r.ctxTime) * 1000;
  }

  #sync() {
    const heard = this.heardTs();
    const now = performance.now();
    for (const t of this.tracks) {
      const end = t.bufferedEnd();
      if (end === null || t.base === null || !t.sb) continue;
      if (t === this.tracks[1] && now - t.lastAt > 3000) t.tile.fig.hidden = true; // sharing stopped
      const b = t.video.buffered;
      const start = b.start(0);
      // On the audio clock when there is sound; otherwise just behind the newest frame.
      let target = heard !== null ? (heard - t.base) / 1000 : end - 0.12;
      if (target > end - 0.02) target = end - 0.02; // the picture is behind the sound: show the newest frame
      if (target < start) target = start;
      if (steer(t.video, target)) this.seeks++;
    }
    const cam = this.tracks[0];
    if (cam.lastTs) {
      const lag = Date.now() - cam.lastTs;
      const bufMs = this.report?.bufferedMs;
      this.status.textContent = `live · newest frame ${Math.max(0, Math.round(lag))} ms old${bufMs !== undefined ? ` · audio buffer ${Math.round(bufMs)} ms` : ''}${cam.dropped ? ` · ${cam.dropped} dropped` : ''}`;
    }
  }

  ended() {
    this.over = true;
    this.status.textContent = 'The meeting ended. Its recording plays with "Play recording".';
    shown = shown && { ...shown, live: false };
    const b = document.querySelector('#player-slot [data-action="watch-live"]');
    if (b) b.textContent = '▶ Play recording';
  }

  close() {
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.optionsTimer);
    this.ws?.close();
    this.ctx?.close().catch(() => {});
    for (const t of this.tracks) t.close();
    this.root.remove();
    if (window.__openrtmsPlayer === this) window.__openrtmsPlayer = undefined;
  }
}

// ---------------------------------------------------------------- replay

class ReplayPlayer {
  constructor(id) {
    this.id = id;
    const s = stage();
    Object.assign(this, s);
    this.audio = el('audio');
    this.audio.preload = 'auto';
    this.playBtn = el('button', '', 'Play');
    this.playBtn.dataset.action = 'play';
    this.playBtn.onclick = () => (this.clock().paused ? this.play() : this.clock().pause());
    this.scrub = el('input');
    this.scrub.type = 'range';
    this.scrub.min = '0';
    this.scrub.step = '0.1';
    this.scrub.oninput = () => this.#seekRel(Number(this.scrub.value));
    this.time = el('span', 'muted');
    this.controls.append(this.playBtn, this.scrub, this.time, this.meter, this.status, this.closeBtn);
    this.root.append(this.audio);
    this.ready = this.#load();
    this.timer = setInterval(() => this.#sync(), 100);
    window.__openrtmsPlayer = this;
  }

  async #load() {
    const base = `/api/streams/${enc(this.id)}/files/`;
    const r = await fetch(`${base}manifest.json`, { credentials: 'same-origin' });
    if (!r.ok) {
      this.status.textContent = 'No recording on this server.';
      return;
    }
    const m = await r.json();
    this.t0 = Date.parse(m.started_at);
    const url = (p) => base + p.split('/').map(enc).join('/');
    const files = m.files || [];
    const wav = files.find((f) => f.path === 'audio/mixed.wav') || files.find((f) => f.kind === 'audio');
    const cam = files.find((f) => f.kind === 'video' && f.path.endsWith('.mp4'));
    const share = files.find((f) => f.kind === 'share' && f.path.endsWith('.mp4'));
    this.videos = [];
    if (cam) this.videos.push({ video: this.cam.video, fig: this.cam.fig, offset: (cam.start_ms ?? 0) / 1000 });
    else this.cam.fig.hidden = true;
    if (share) this.videos.push({ video: this.share.video, fig: this.share.fig, offset: (share.start_ms ?? 0) / 1000 });
    if (cam) this.cam.video.src = url(cam.path);
    if (share) this.share.video.src = url(share.path);
    if (wav) {
      this.audio.src = url(wav.path);
      this.#meterFor(this.audio);
    }
    this.duration = Math.max(...files.map((f) => ((f.start_ms ?? 0) + (f.duration_ms || 0)) / 1000), 0);
    this.scrub.max = String(this.duration);
    this.status.textContent = '';
  }

  /** RMS of what the WAV actually plays, through Web Audio. */
  #meterFor(media) {
    try {
      this.ctx = new AudioContext();
      const src = this.ctx.createMediaElementSource(media);
      this.analyser = this.ctx.createAnalyser();
      this.analyser.fftSize = 2048;
      src.connect(this.analyser);
      this.analyser.connect(this.ctx.destination);
      this.samples = new Float32Array(this.analyser.fftSize);
    } catch {
      this.analyser = null;
    }
  }

  /** The element whose time is the replay's time: the WAV, or the camera without audio. */
  clock() {
    return this.audio.src ? this.audio : this.cam.video;
  }

  async play() {
    await this.ready;
    await this.ctx?.resume();
    this.clock().play().catch(() => {});
  }

  /** Seeks to RTMS time `ts` (ms) and plays. */
  async seek(ts) {
    await this.ready;
    if (this.t0 === undefined) return;
    this.#seekRel(Math.max(0, (ts - this.t0) / 1000));
    this.play();
  }

  #seekRel(seconds) {
    this.clock().currentTime = seconds;
    this.#sync();
  }

  #sync() {
    if (this.t0 === undefined) return;
    const c = this.clock();
    const t = c.currentTime;
    this.playBtn.textContent = c.paused ? 'Play' : 'Pause';
    if (document.activeElement !== this.scrub) this.scrub.value = String(t);
    const mmss = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
    this.time.textContent = `${mmss(t)} / ${mmss(this.duration || 0)}`;
    for (const v of this.videos) {
      if (v.video === c) continue;
      const target = t - v.offset;
      const inside = target >= 0 && (!v.video.duration || target <= v.video.duration);
      if (!inside || c.paused) {
        if (!v.video.paused) v.video.pause();
        if (inside && Math.abs(v.video.currentTime - target) > 0.1) v.video.currentTime = target;
        continue;
      }
      steer(v.video, target);
    }
    if (this.analyser && !c.paused) {
      this.analyser.getFloatTimeDomainData(this.samples);
      let sum = 0;
      for (const x of this.samples) sum += x * x;
      setLevel(this.meter, Math.sqrt(sum / this.samples.length));
    } else setLevel(this.meter, 0);
    this.#highlight(this.t0 + t * 1000);
  }

  /** The transcript line being spoken is marked and kept in view. */
  #highlight(ts) {
    const lines = document.querySelectorAll('#transcript .line[data-ts]');
    let now = null;
    for (const l of lines) if (Number(l.dataset.ts) <= ts) now = l;
    if (now === this.currentLine) return;
    this.currentLine?.classList.remove('now');
    this.currentLine = now;
    if (!now) return;
    now.classList.add('now');
    const box = now.parentElement;
    if (now.offsetTop < box.scrollTop || now.offsetTop > box.scrollTop + box.clientHeight - now.offsetHeight) box.scrollTop = now.offsetTop - box.clientHeight / 3;
  }

  close() {
    clearInterval(this.timer);
    this.audio.pause();
    for (const v of this.videos ?? []) v.video.pause();
    this.ctx?.close().catch(() => {});
    this.currentLine?.classList.remove('now');
    this.root.remove();
    if (window.__openrtmsPlayer === this) window.__openrtmsPlayer = undefined;
  }
}
