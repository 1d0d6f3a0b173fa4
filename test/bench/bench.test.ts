import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { LatencyHistogram } from '../../src/bench/latency.js';

describe('latency histogram', () => {
  it('gives percentiles within 0.1 ms', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i / 10);
    assert.equal(h.percentile(50), 50);
    assert.equal(h.percentile(99), 99);
    h.record(20_000);
    assert.equal(h.percentile(100), 10_000);
  });
});

describe('openrtms bench --json', () => {
  it('prints the documented figures for the pipeline and the floor from one run', async () => {
    const child = spawn(process.execPath, ['bin/openrtms.js', 'bench', '--streams', '3', '--duration', '2', '--json']);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 0, err);
    const r = JSON.parse(out);
    for (const k of ['streams', 'duration_s', 'frames_sent', 'frames_received', 'frames_lost', 'cpu_ms_per_stream_second', 'streams_per_core', 'latency_ms', 'rss_mb_per_stream', 'floor', 'ratio_vs_floor']) assert.ok(k in r, k);
    assert.equal(r.streams, 3);
    assert.equal(r.frames_sent, 3 * 100, '2 s of audio, no speech ends within 2 s so no transcript');
    assert.equal(r.frames_lost, 0);
    assert.equal(r.floor.frames_received, r.floor.frames_sent);
    assert.ok(r.ratio_vs_floor > 0);
  });
  it('bad flags: one line, exit 2', async () => {
    const child = spawn(process.execPath, ['bin/openrtms.js', 'bench', '--media', 'smell']);
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    assert.equal(await new Promise((r) => child.on('exit', r)), 2);
    assert.match(err, /--media/);
  });
});
