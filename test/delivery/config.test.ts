import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

const text = (v: unknown) => JSON.stringify(v);
const hook = (extra: Record<string, unknown> = {}) => ({ type: 'webhook', url: 'https://app.example/rtms', secret: 'HOOK-SECRET', ...extra });

function refuses(destinations: unknown, re: RegExp, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    parseConfig(text({ destinations }), env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.equal(err.message.split('\n').length, 1, 'one line');
    assert.match(err.message, re);
    return err;
  }
  assert.fail(`accepted ${text(destinations)}`);
}

describe('config file: destinations', () => {
  it('all four types with their defaults and names <type><N>', () => {
    const c = parseConfig(
      text({
        destinations: [
          hook({ events: ['transcript.segment', 'stream.stopped'], match: { products: ['meeting'] } }),
          { type: 's3', bucket: 'meetings' },
          hook({ url: 'http://127.0.0.1:9/x', secret: '${HOOK2}', maxAgeHours: 1, timeoutMs: 500, name: 'crm' }),
          { type: 'azure-blob', connectionString: '${AZ}', container: 'meetings' },
          { type: 'rtmp', url: 'rtmp://a.rtmp.youtube.com/live2/${YT_KEY}' },
          { type: 's3', bucket: 'b2', prefix: 'rtms/', region: 'eu-west-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, accessKeyId: 'AK', secretAccessKey: 'SK', deleteLocal: true, match: { meetingIds: ['m1'] } },
        ],
      }),
      { HOOK2: 's2', AZ: 'UseDevelopmentStorage=true', YT_KEY: 'key-1' },
    );
    assert.deepEqual(c.destinations, [
      { name: 'webhook1', match: { products: ['meeting'] }, type: 'webhook', url: 'https://app.example/rtms', secret: 'HOOK-SECRET', events: ['transcript.segment', 'stream.stopped'], maxAgeHours: 24, timeoutMs: 10_000 },
      { name: 's31', type: 's3', bucket: 'meetings', prefix: '', region: 'us-east-1', forcePathStyle: false, deleteLocal: false, maxAgeHours: 24 },
      { name: 'crm', type: 'webhook', url: 'http://127.0.0.1:9/x', secret: 's2', maxAgeHours: 1, timeoutMs: 500 },
      { name: 'azure-blob1', type: 'azure-blob', connectionString: 'UseDevelopmentStorage=true', container: 'meetings', prefix: '', deleteLocal: false, maxAgeHours: 24 },
      { name: 'rtmp1', type: 'rtmp', url: 'rtmp://a.rtmp.youtube.com/live2/key-1' },
      { name: 's32', match: { meetingIds: ['m1'] }, type: 's3', bucket: 'b2', prefix: 'rtms/', region: 'eu-west-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, accessKeyId: 'AK', secretAccessKey: 'SK', deleteLocal: true, maxAgeHours: 24 },
    ]);
    assert.deepEqual(parseConfig(text({ apps: [] })).destinations, undefined);
    assert.deepEqual(parseConfig(text({ destinations: [] })).destinations, []);
  });

  it('each bad value: one line naming its JSON path', () => {
    refuses({}, /^destinations: expected a list of destinations$/);
    refuses([hook(), 'x'], /^destinations\[1\]: expected an object with a type/);
    refuses([{ type: 'ftp' }], /^destinations\[0\]\.type: expected one of webhook, s3, azure-blob, rtmp, got "ftp"$/);
    refuses([hook(), { type: 's3', bucket: 3 }], /^destinations\[1\]\.bucket: expected a string$/);
    refuses([{ type: 's3' }], /^destinations\[0\]\.bucket: missing; expected a string$/);
    refuses([hook({ url: 'ftp://x' })], /^destinations\[0\]\.url: expected an http\(s\) URL/);
    refuses([hook({ secret: undefined })], /^destinations\[0\]\.secret: missing/);
    refuses([hook({ timeoutMs: 0 })], /^destinations\[0\]\.timeoutMs: expected a positive number$/);
    refuses([hook({ maxAgeHours: '24' })], /^destinations\[0\]\.maxAgeHours: expected a positive number$/);
    refuses([hook({ events: ['transcript.segment', 'meeting.ended'] })], /^destinations\[0\]\.events\[1\]: expected one of stream\.started, .*, got "meeting\.ended"$/);
    refuses([hook({ events: [] })], /^destinations\[0\]\.events: expected a non-empty list/);
    refuses([hook({ match: { products: ['zoomtopia'] } })], /^destinations\[0\]\.match\.products\[0\]: expected one of meeting, /);
    refuses([hook({ match: { product: ['meeting'] } })], /^destinations\[0\]\.match\.product: unknown key/);
    refuses([hook({ match: { meetingIds: [1] } })], /^destinations\[0\]\.match\.meetingIds\[0\]: expected a string$/);
    refuses([hook({ match: { events: ['x'] } })], /^destinations\[0\]\.match\.events\[0\]: expected one of/);
    refuses([hook({ bucket: 'x' })], /^destinations\[0\]\.bucket: unknown key \(expected one of type, name, match, url, secret, events, maxAgeHours, timeoutMs\)$/);
    refuses([{ type: 's3', bucket: 'b', forcePathStyle: 'yes' }], /^destinations\[0\]\.forcePathStyle: expected true or false$/);
    refuses([{ type: 's3', bucket: 'b', accessKeyId: 'AK' }], /^destinations\[0\]\.secretAccessKey: missing; accessKeyId and secretAccessKey go together$/);
    refuses([{ type: 'azure-blob', connectionString: 'c' }], /^destinations\[0\]\.container: missing/);
    refuses([{ type: 'rtmp', url: 'http://a.example/live' }], /^destinations\[0\]\.url: expected an rtmp:\/\/ or rtmps:\/\/ URL$/);
    refuses([hook({ name: 'a' }), { type: 'rtmp', url: 'rtmp://h/app/k', name: 'a' }], /^destinations\[1\]\.name: "a" is already the name of another destination$/);
    refuses([hook({ secret: '${NOPE}' })], /^destinations\[0\]\.secret: environment variable NOPE is not set$/);
  });

  it('secrets and stream keys never appear in a message', () => {
    const secrets = { S: 'ENV-SECRET-1', K: 'STREAM-KEY-2', C: 'AccountKey=CONN-3' };
    for (const [d, re] of [
      [[hook({ secret: '${S}', timeoutMs: -1 })], /timeoutMs/],
      [[{ type: 'rtmp', url: 'http://x/live2/${K}' }], /url/],
      [[{ type: 'azure-blob', connectionString: '${C}', container: 5 }], /container/],
      [[{ type: 's3', bucket: 'b', accessKeyId: '${S}', secretAccessKey: '${K}', deleteLocal: 1 }], /deleteLocal/],
    ] as const) {
      const e = refuses(d, re, secrets);
      assert.doesNotMatch(e.message, /ENV-SECRET-1|STREAM-KEY-2|CONN-3/);
    }
  });
});

describe('config file: destinations at the command line', () => {
  it('serve refuses a bad destination with one line and exit 2, no secret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-dlv-cfg-'));
    try {
      const run = (config: unknown) => {
        writeFileSync(join(dir, 'c.json'), text(config));
        return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--data-dir', dir, '--config', join(dir, 'c.json')], {
          env: { PATH: process.env.PATH, ZM_RTMS_CLIENT: 'a', ZM_RTMS_SECRET: 'b', ZOOM_SECRET_TOKEN: 'c' },
          encoding: 'utf8',
          timeout: 30_000,
        });
      };
      const a = run({ destinations: [hook({ secret: 'CLI-SECRET' }), { type: 's3', bucket: 'b', accessKeyId: 'CLI-AK' }] });
      assert.equal(a.status, 2, a.stderr);
      assert.equal(a.stderr.trim().split('\n').length, 1, a.stderr);
      assert.match(a.stderr, /c\.json: destinations\[1\]\.secretAccessKey: missing; accessKeyId and secretAccessKey go together$/m);
      const b = run({ destinations: [hook({ secret: 'CLI-SECRET', match: { products: 'meeting' } })] });
      assert.equal(b.status, 2, b.stderr);
      assert.match(b.stderr, /destinations\[0\]\.match\.products: expected a non-empty list/);
      assert.doesNotMatch(a.stderr + b.stderr, /CLI-SECRET|CLI-AK/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
