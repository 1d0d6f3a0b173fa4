import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LatencyHistogram, StreamLag, WARMUP_MS } from '../../src/bench/latency.js';
import { judge, searchMax } from '../../src/bench/search.js';
import { renderPlot, ticks } from '../../src/bench/plot.js';
import { STEADY_AFTER_S, steadyState, type Phase } from '../../src/bench/phase.js';

function phase(streams: number, over: Partial<Phase> = {}): Phase {
  return {
    streams,
    duration_s: 10,
    frames_sent: streams * 500,
    frames_received: streams * 500,
    frames_lost: 0,
    cpu_ms_per_stream_second: 1.2,
    steady_cpu_ms_per_stream_second: 1,
    streams_per_core: 1000,
    latency_ms: { p50: 1, p99: 5, max: 9 },
    latency_all_ms: { p50: 1, p99: 8, max: 30 },
    rss_mb_per_stream: 0.1,
    cpu_cores: streams / 1000,
    steady_cpu_cores: streams / 1000,
    rss_mb: streams / 10,
    event_loop_p99_ms: 10,
    sender: { cpu_cores: 0.2, event_loop_p99_ms: 11 },
    ...over,
  };
}

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['bin/openrtms.js', 'bench', ...args]);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((r) => child.on('exit', (code) => r({ code, out, err })));
}

/** Well-formedness of the SVG we write: one root, every tag closed in order, attributes quoted. */
function assertWellFormedSvg(svg: string): void {
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, close, name, , selfClose] = m;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes the open tag`);
    else if (!selfClose) stack.push(name);
  }
  assert.deepEqual(stack, [], 'every tag is closed');
  const stripped = svg.replace(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g, '');
  assert.doesNotMatch(stripped, /[<>]/, 'no stray markup');
  assert.doesNotMatch(stripped, /&(?!amp;|lt;|gt;|quot;)/, 'ampersands escaped');
}

describe('latency histogram', () => {
  it('gives percentiles within 0.1 ms', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i / 10);
    assert.equal(h.percentile(50), 50);
    assert.equal(h.percentile(99), 99);
    h.record(20_000);
    assert.equal(h.percentile(100), 10_000);
    assert.equal(h.max, 20_000);
  });

  it('counts a stream\'s first WARMUP_MS apart from its steady state', () => {
    const steady = new LatencyHistogram();
    const all = new LatencyHistogram();
    const lag = new StreamLag(steady, all);
    const t0 = 1_000_000;
    lag.record(t0, t0 + 500); // the join: half a second late
    lag.record(t0 + WARMUP_MS - 20, t0 + WARMUP_MS - 20 + 300);
    for (let i = 0; i < 100; i++) lag.record(t0 + WARMUP_MS + i * 20, t0 + WARMUP_MS + i * 20 + 3);
    assert.equal(all.count, 102);
    assert.equal(steady.count, 100);
    assert.equal(steady.max, 3);
    assert.equal(all.max, 500);
  });
});

describe('max-stream search', () => {
  it('judges a phase by loss and lag p99, and names a saturated sender', () => {
    assert.deepEqual(judge(phase(100), { maxLagP99Ms: 50 }), { pass: true });
    const lag = judge(phase(100, { latency_ms: { p50: 5, p99: 50, max: 80 } }), { maxLagP99Ms: 50 });
    assert.equal(lag.pass, false);
    assert.equal(lag.cause, 'lag');
    assert.match(lag.reason!, /lag p99 50 ms ≥ 50 ms/);
    assert.equal(judge(phase(100, { frames_lost: 3 }), { maxLagP99Ms: 50 }).cause, 'loss');
    assert.equal(judge(phase(100, { frames_lost: 3, sender: { cpu_cores: 0.97, event_loop_p99_ms: 300 } }), { maxLagP99Ms: 50 }).cause, 'sender');
  });

  it('doubles until a count fails, then bisects to within the resolution', async () => {
    const tried: number[] = [];
    // A receiver that keeps up with up to 730 streams.
    const r = await searchMax(
      async (n) => {
        tried.push(n);
        return { full: phase(n, n > 730 ? { latency_ms: { p50: 30, p99: 400, max: 900 } } : {}) };
      },
      { start: 100, cap: 5000, criteria: { maxLagP99Ms: 50 } },
    );
    assert.deepEqual(tried.slice(0, 5), [100, 200, 400, 800, 600]);
    assert.ok(r.streams <= 730 && r.streams >= 730 * 0.9, `found ${r.streams}`);
    assert.equal(r.limited_by, 'lag');
    const firstFail = Math.min(...r.steps.filter((s) => !s.pass).map((s) => s.streams));
    assert.ok(firstFail - r.streams <= Math.max(1, Math.floor(r.streams * 0.1)));
    assert.equal(r.steps.length, tried.length);
  });

  it('stops at the cap when every count passes, and searches down when the first fails', async () => {
    const capped = await searchMax(async (n) => ({ full: phase(n) }), { start: 3, cap: 10, criteria: { maxLagP99Ms: 50 } });
    assert.deepEqual(capped.steps.map((s) => s.streams), [3, 6, 10]);
    assert.equal(capped.streams, 10);
    assert.equal(capped.limited_by, 'cap');
    const down = await searchMax(async (n) => ({ full: phase(n, n > 5 ? { frames_lost: 1 } : {}) }), { start: 40, cap: 100, criteria: { maxLagP99Ms: 50 } });
    assert.equal(down.streams, 5);
    assert.equal(down.limited_by, 'loss');
  });
});

describe('bench plot', () => {
  it('ticks are round numbers covering the range', () => {
    assert.deepEqual(ticks(1000, 5), [0, 200, 400, 600, 800, 1000]);
    assert.deepEqual(ticks(0.7, 4), [0, 0.2, 0.4, 0.6, 0.8]);
    assert.deepEqual(ticks(0), [0, 1]);
  });

  it('draws the three panels, both sides, guides and failed steps, as well-formed SVG', () => {
    const floor = [100, 200, 400].map((n) => ({ streams: n, phase: phase(n) }));
    const full = [
      { streams: 100, phase: phase(100, { cpu_cores: 0.3 }), pass: true },
      { streams: 200, phase: phase(200, { cpu_cores: 0.6 }), pass: true },
      { streams: 400, phase: phase(400, { cpu_cores: 1.05, latency_ms: { p50: 90, p99: 2500, max: 4000 } }), pass: false },
    ];
    const svg = renderPlot({ title: 'bench <test> & co', subtitle: 'noisy', floor, full, lagLimitMs: 50 });
    assertWellFormedSvg(svg);
    assert.match(svg, /bench &lt;test&gt; &amp; co/);
    for (const label of ['Receiver CPU (cores)', 'Receiver memory', 'Lag p99', 'limit 50 ms', '1 core', 'bare floor client', 'full serve pipeline', 'concurrent real-time streams']) assert.ok(svg.includes(label), label);
    assert.equal((svg.match(/<polyline /g) ?? []).length, 6, 'one line per side per panel');
    assert.equal((svg.match(/<path d=/g) ?? []).length, 3, 'the failed step is a cross in each panel');
    assert.match(svg, /▲ 2500/, 'a lag far above the limit is clipped and labelled');
    assert.match(svg, /<title>full 200 streams: 0\.6<\/title>/);
  });
});

describe('openrtms bench --json', () => {
  it('prints the documented figures for the pipeline and the floor from one run', async () => {
    const { code, out, err } = await cli(['--streams', '3', '--duration', '2', '--json']);
    assert.equal(code, 0, err);
    const r = JSON.parse(out);
    for (const k of ['streams', 'duration_s', 'frames_sent', 'frames_received', 'frames_lost', 'cpu_ms_per_stream_second', 'streams_per_core', 'latency_ms', 'rss_mb_per_stream', 'floor', 'ratio_vs_floor']) assert.ok(k in r, k);
    assert.equal(r.streams, 3);
    assert.equal(r.frames_sent, 3 * 100, '2 s of audio, no speech ends within 2 s so no transcript');
    assert.equal(r.frames_lost, 0);
    assert.equal(r.floor.frames_received, r.floor.frames_sent);
    assert.ok(r.ratio_vs_floor > 0);
    assert.equal(r.steady_cpu_ms_per_stream_second, 0, 'a 2 s phase has no steady state');
    assert.equal(r.steady_ratio_vs_floor, 0);
    assert.ok(r.cpu_cores > 0 && r.sender.cpu_cores > 0);
    assert.match(err, /bench floor +3 streams: 0 lost/, 'progress on stderr');
    assert.match(err, /bench full +3 streams: 0 lost/);
  });

  it('--rounds --watch: measures each side per round, reports the median round, and the watcher gets levels', async () => {
    const { code, out, err } = await cli(['--streams', '2', '--duration', '2', '--rounds', '2', '--watch', '--json']);
    assert.equal(code, 0, err);
    const r = JSON.parse(out);
    assert.equal(r.watch, true);
    assert.equal(r.rounds.length, 2);
    for (const x of r.rounds) assert.ok('steady_ratio_vs_floor' in x && x.full_steady_cpu_ms_per_stream_second >= 0);
    assert.ok(r.live_bytes > 1000, `the live watcher received ${r.live_bytes} bytes (levels of 2 streams for 2 s)`);
    assert.equal(r.frames_lost, 0);
    assert.equal((err.match(/bench full +2 streams/g) ?? []).length, 2, 'two full phases');
  });

  it('steady state: CPU per second between the joins and the last second', () => {
    // 100 ms of CPU per second while streams join, 40 per second after STEADY_AFTER_S.
    const readings = Array.from({ length: 11 }, (_, at) => ({ at, cpu_ms: at <= STEADY_AFTER_S ? 100 * at : 100 * STEADY_AFTER_S + 40 * (at - STEADY_AFTER_S), main_cpu_ms: 30 * at, main_wakeups: 200 * at }));
    assert.deepEqual(steadyState(readings, 10), { cpuMsPerS: 40, mainMsPerS: 30, wakeupsPerS: 200 });
    assert.equal(steadyState(readings.slice(0, 4), 4), undefined, 'no two readings inside the window');
    assert.deepEqual(steadyState(readings.map(({ at, cpu_ms }) => ({ at, cpu_ms })), 10), { cpuMsPerS: 40 });
  });

  it('--max --plot: searches at a tiny scale, reports the limit and writes the SVG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-bench-test-'));
    try {
      const svgPath = join(dir, 'plot', 'bench.svg');
      const { code, out, err } = await cli(['--max', '--streams', '2', '--max-limit', '3', '--duration', '2', '--plot', svgPath, '--cpu-prof', join(dir, 'prof'), '--json']);
      assert.equal(code, 0, err);
      const r = JSON.parse(out);
      assert.deepEqual(r.max.criteria, { frames_lost: 0, lag_p99_ms_below: 50 });
      assert.deepEqual(r.max.steps.map((s: { streams: number }) => s.streams), [2, 3], 'doubles from 2, capped at 3');
      // Two or three streams on an idle loopback keep up; if a noisy machine says otherwise, the
      // search must still be consistent with its own steps.
      const passed = r.max.steps.filter((s: { pass: boolean }) => s.pass).map((s: { streams: number }) => s.streams);
      assert.equal(r.max.streams, passed.length ? Math.max(...passed) : 0);
      if (r.max.streams === 3) {
        assert.equal(r.max.limited_by, 'cap');
        assert.equal(r.streams, 3, 'the headline figures are those at the limit');
        assert.equal(r.frames_lost, 0);
        assert.ok(r.max.streams_per_core > 0);
      }
      for (const s of r.max.steps) {
        assert.equal(s.full.streams, s.streams);
        assert.equal(s.floor.streams, s.streams);
        assert.equal(s.full.frames_sent, s.streams * 100);
      }
      assert.match(err, /bench max: 2 streams (sustained|not sustained)/);
      assert.equal(r.plot, svgPath);
      const svg = readFileSync(svgPath, 'utf8');
      assertWellFormedSvg(svg);
      assert.match(svg, /max sustained: \d+ streams/);
      assert.equal((svg.match(/<polyline /g) ?? []).length, 6);
      const profiles = readdirSync(join(dir, 'prof')).filter((f) => f.endsWith('.cpuprofile'));
      assert.equal(profiles.length, 4, 'one profile per receiver process');
      const prof = JSON.parse(readFileSync(join(dir, 'prof', profiles[0]), 'utf8'));
      assert.ok(Array.isArray(prof.nodes) && prof.nodes.length > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad flags: one line, exit 2', async () => {
    for (const [args, flag] of [
      [['--media', 'smell'], /--media/],
      [['--plot', 'x.png'], /--plot/],
      [['--max', '--streams', '10,20'], /--streams/],
      [['--max-lag', 'soon'], /--max-lag/],
      [['--rounds', '0'], /--rounds/],
    ] as const) {
      const { code, err } = await cli([...args]);
      assert.equal(code, 2, args.join(' '));
      assert.match(err, flag);
    }
  });
});
