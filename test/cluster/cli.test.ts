import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const cli = (args: string[], env: Record<string, string | undefined>) => {
  const clean = { ...process.env };
  for (const k of ['NATS_URL', 'DATABASE_URL', 'ZM_RTMS_CLIENT', 'ZM_RTMS_SECRET', 'ZOOM_CLIENT_ID', 'ZOOM_CLIENT_SECRET', 'ZOOM_SECRET_TOKEN']) delete clean[k];
  return spawnSync(process.execPath, ['bin/openrtms.js', ...args], { env: { ...clean, ...env }, encoding: 'utf8', timeout: 30_000, cwd: process.cwd() });
};
const full = { NATS_URL: 'nats://127.0.0.1:1', DATABASE_URL: 'postgres://127.0.0.1:1/x', ZM_RTMS_CLIENT: 'c', ZM_RTMS_SECRET: 's' };

describe('openrtms worker: bad configuration gets one line and exit 2', () => {
  it('--help documents the settings', () => {
    const r = cli(['worker', '--help'], {});
    assert.equal(r.status, 0);
    assert.match(r.stdout, /--max-streams/);
    assert.match(r.stdout, /NATS_URL/);
  });
  for (const [missing, re] of [
    ['NATS_URL', /NATS_URL is not set/],
    ['DATABASE_URL', /DATABASE_URL is not set/],
    ['ZM_RTMS_CLIENT', /ZM_RTMS_CLIENT is not set/],
  ] as const) {
    it(`without ${missing}`, () => {
      const r = cli(['worker'], { ...full, [missing]: undefined });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  }
  it('an unreachable NATS is named, without a stack trace', () => {
    const r = cli(['worker'], full);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
  it('a bad --max-streams or --id', () => {
    assert.match(cli(['worker', '--max-streams', '0'], full).stderr, /max-streams/);
    const r = cli(['worker', '--id', 'a b'], full);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--id must be/);
  });
  it('serve in cluster mode requires PostgreSQL', () => {
    const r = cli(['serve', '--port', '0'], { ...full, DATABASE_URL: undefined, ZOOM_SECRET_TOKEN: 't' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /cluster mode \(NATS_URL\) needs DATABASE_URL/);
  });
});
