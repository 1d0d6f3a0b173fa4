/**
 * `openrtms bench --plot FILE.svg`: receiver CPU, memory and lag p99 against the stream count, one
 * line for the bare floor and one for the full pipeline, as a self-contained SVG (no dependency).
 */
import type { Phase } from './phase.js';

export interface PlotPoint {
  streams: number;
  phase: Phase;
  /** False for a step of `--max` that failed the criteria (drawn as a cross). */
  pass?: boolean;
}

export interface PlotInput {
  title: string;
  /** One line or several. */
  subtitle?: string | string[];
  floor: PlotPoint[];
  full: PlotPoint[];
  /** Horizontal guide on the lag panel (the `--max` criterion). */
  lagLimitMs?: number;
}

const W = 920;
const LEFT = 78;
const RIGHT = 24;
const TOP = 96;
const PANEL_H = 190;
const GAP = 46;
const COLORS = { floor: '#4e79a7', full: '#e15759' };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (x: number) => (Math.abs(x) >= 100 || Number.isInteger(x) ? String(Math.round(x)) : x >= 10 ? x.toFixed(1) : x.toFixed(2).replace(/0$/, ''));

/** About `count` round tick values from 0 to at least `max`. */
export function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) out.push(Math.round(v * 1e6) / 1e6);
  return out;
}

interface Panel {
  label: string;
  value: (p: Phase) => number;
  /** Horizontal guides: value and label. */
  guides?: { at: number; label: string }[];
  /** Values above this many times the largest guide are drawn clipped at the top of the panel. */
  clipAtGuideTimes?: number;
}

export function renderPlot(input: PlotInput): string {
  const panels: Panel[] = [
    { label: 'Receiver CPU (cores)', value: (p) => p.cpu_cores, guides: [{ at: 1, label: '1 core' }] },
    { label: 'Receiver memory (MB RSS above idle)', value: (p) => p.rss_mb },
    {
      label: 'Lag p99 (ms, arrival − due time)',
      value: (p) => p.latency_ms.p99,
      guides: input.lagLimitMs !== undefined ? [{ at: input.lagLimitMs, label: `limit ${input.lagLimitMs} ms` }] : [],
      clipAtGuideTimes: 4,
    },
  ];
  const all = [...input.floor, ...input.full];
  const H = TOP + panels.length * (PANEL_H + GAP) + 40;
  const xMax = Math.max(1, ...all.map((p) => p.streams));
  const xTicks = ticks(xMax, 8);
  const xTop = xTicks[xTicks.length - 1];
  const plotW = W - LEFT - RIGHT;
  const x = (n: number) => LEFT + (n / xTop) * plotW;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${LEFT}" y="26" font-size="17" font-weight="bold">${esc(input.title)}</text>`);
  const sub = input.subtitle === undefined ? [] : Array.isArray(input.subtitle) ? input.subtitle : [input.subtitle];
  sub.forEach((line, i) => out.push(`<text x="${LEFT}" y="${46 + i * 16}" fill="#555">${esc(line)}</text>`));
  // Legend.
  const legendY = 84;
  let lx = W - RIGHT - 300;
  for (const [side, name] of [['floor', 'bare floor client'], ['full', 'full serve pipeline']] as const) {
    out.push(`<line x1="${lx}" y1="${legendY}" x2="${lx + 22}" y2="${legendY}" stroke="${COLORS[side]}" stroke-width="2.5"/><circle cx="${lx + 11}" cy="${legendY}" r="3.5" fill="${COLORS[side]}"/>`);
    out.push(`<text x="${lx + 28}" y="${legendY + 4}">${name}</text>`);
    lx += 150;
  }
  if (all.some((p) => p.pass === false)) out.push(`<text x="${W - RIGHT - 310}" y="${legendY + 4}" text-anchor="end" fill="#555">× = failed the real-time criteria</text>`);

  panels.forEach((panel, i) => {
    const top = TOP + i * (PANEL_H + GAP) + 14;
    const bottom = top + PANEL_H;
    const guides = panel.guides ?? [];
    const guideMax = Math.max(0, ...guides.map((g) => g.at));
    let yMaxData = Math.max(0, ...all.map((p) => panel.value(p.phase)), guideMax * 1.1);
    const clip = panel.clipAtGuideTimes && guideMax > 0 ? guideMax * panel.clipAtGuideTimes : Infinity;
    if (yMaxData > clip) yMaxData = clip;
    const yTicks = ticks(yMaxData || 1, 4);
    const yTop = yTicks[yTicks.length - 1];
    const y = (v: number) => bottom - (Math.min(v, yTop) / yTop) * PANEL_H;
    out.push(`<g>`);
    out.push(`<text x="${LEFT}" y="${top - 8}" font-weight="bold">${esc(panel.label)}</text>`);
    for (const t of yTicks) {
      out.push(`<line x1="${LEFT}" y1="${y(t).toFixed(1)}" x2="${W - RIGHT}" y2="${y(t).toFixed(1)}" stroke="#e6e6e6"/>`);
      out.push(`<text x="${LEFT - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" fill="#444">${fmt(t)}</text>`);
    }
    for (const t of xTicks) {
      out.push(`<line x1="${x(t).toFixed(1)}" y1="${top}" x2="${x(t).toFixed(1)}" y2="${bottom}" stroke="#f0f0f0"/>`);
      out.push(`<text x="${x(t).toFixed(1)}" y="${bottom + 15}" text-anchor="middle" fill="#444">${fmt(t)}</text>`);
    }
    out.push(`<rect x="${LEFT}" y="${top}" width="${plotW}" height="${PANEL_H}" fill="none" stroke="#999"/>`);
    for (const g of guides) {
      out.push(`<line x1="${LEFT}" y1="${y(g.at).toFixed(1)}" x2="${W - RIGHT}" y2="${y(g.at).toFixed(1)}" stroke="#333" stroke-dasharray="6 4"/>`);
      out.push(`<text x="${W - RIGHT - 4}" y="${(y(g.at) - 5).toFixed(1)}" text-anchor="end" fill="#333">${esc(g.label)}</text>`);
    }
    for (const side of ['floor', 'full'] as const) {
      const pts = [...input[side]].sort((a, b) => a.streams - b.streams);
      if (!pts.length) continue;
      const color = COLORS[side];
      if (pts.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${x(p.streams).toFixed(1)},${y(panel.value(p.phase)).toFixed(1)}`).join(' ')}"/>`);
      for (const p of pts) {
        const v = panel.value(p.phase);
        const px = x(p.streams).toFixed(1);
        const py = y(v);
        const tip = `<title>${side} ${p.streams} streams: ${fmt(v)}</title>`;
        if (p.pass === false) {
          out.push(`<path d="M${+px - 4},${(py - 4).toFixed(1)} l8,8 m0,-8 l-8,8" stroke="${color}" stroke-width="2.2">${tip}</path>`);
        } else out.push(`<circle cx="${px}" cy="${py.toFixed(1)}" r="3.5" fill="${color}">${tip}</circle>`);
        if (v > yTop) {
          const left = +px > W - RIGHT - 70;
          out.push(`<text x="${left ? +px - 6 : +px + 6}" y="${(py + 12).toFixed(1)}" text-anchor="${left ? 'end' : 'start'}" fill="${color}" font-size="11">▲ ${fmt(v)}</text>`);
        }
      }
    }
    out.push(`</g>`);
  });
  const axisY = TOP + panels.length * (PANEL_H + GAP) + 4;
  out.push(`<text x="${LEFT + plotW / 2}" y="${axisY}" text-anchor="middle" font-weight="bold">concurrent real-time streams</text>`);
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}
