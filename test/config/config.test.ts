import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { appFor, configPath, loadConfig, parseConfig, resolveApps } from '../../src/config/index.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'openrtms-config-'));
  dirs.push(d);
  return d;
};

const app = (over: Record<string, unknown> = {}) => ({ products: ['meeting'], clientId: 'cid', clientSecret: 'csecret', secretToken: 'tok', ...over });
const text = (o: unknown) => JSON.stringify(o);

function refuses(json: unknown, message: RegExp, env: NodeJS.ProcessEnv = {}): ConfigError {
  let caught: unknown;
  try {
    parseConfig(typeof json === 'string' ? json : text(json), env);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError for ${String(typeof json === 'string' ? json : text(json))}`);
  assert.match(caught.message, message);
  assert.equal(caught.message.split('\n').length, 1);
  return caught;
}

describe('config file: valid files', () => {
  it('loads apps and zoomApi with defaults', () => {
    const c = parseConfig(text({ apps: [app({ products: ['meeting', 'webinar'], name: 'meetings' }), app({ products: ['session'], clientId: 'sdk-key' })], zoomApi: { accountId: 'acc', clientId: 's2s', clientSecret: 's2s-secret' } }), {});
    assert.equal(c.apps.length, 2);
    assert.equal(c.apps[0].name, 'meetings');
    assert.equal(c.apps[1].name, 'app2');
    assert.deepEqual(c.apps[1].products, ['session']);
    assert.equal(c.zoomApi?.baseUrl, 'https://api.zoom.us');
    assert.equal(c.zoomApi?.oauthUrl, 'https://zoom.us/oauth/token');
    assert.equal(appFor(c.apps, 'session')?.clientId, 'sdk-key');
    assert.equal(appFor(c.apps, 'contact_center'), undefined);
  });

  it('interpolates ${VAR} in any string, several per string', () => {
    const c = parseConfig(text({ apps: [app({ clientId: '${ID}', clientSecret: 'pre-${A}-${B}' })], zoomApi: { accountId: 'a', clientId: 'b', clientSecret: 'c', baseUrl: 'http://${HOST}:9000' } }), { ID: 'from-env', A: 'x', B: 'y', HOST: '127.0.0.1' });
    assert.equal(c.apps[0].clientId, 'from-env');
    assert.equal(c.apps[0].clientSecret, 'pre-x-y');
    assert.equal(c.zoomApi?.baseUrl, 'http://127.0.0.1:9000');
  });

  it('the env one-app shortcut becomes the default app for the products no app claims', () => {
    const env = { ZM_RTMS_CLIENT: 'env-id', ZM_RTMS_SECRET: 'env-secret', ZOOM_SECRET_TOKEN: 'env-token' };
    const apps = resolveApps(parseConfig(text({ apps: [app({ products: ['session'] })] }), {}), env);
    assert.equal(apps.length, 2);
    assert.equal(appFor(apps, 'session')?.clientId, 'cid');
    assert.equal(appFor(apps, 'meeting')?.clientId, 'env-id');
    assert.ok(!apps[1].products.includes('session'));
    assert.ok(apps[1].products.includes('phone'));
    // Without a file, the env app serves everything; incomplete env adds nothing.
    assert.equal(resolveApps({ apps: [] }, env)[0].products.length, 5);
    assert.equal(resolveApps({ apps: [] }, { ZM_RTMS_CLIENT: 'x' }).length, 0);
  });

  it('finds ./openrtms.config.json, --config and OPENRTMS_CONFIG', () => {
    const dir = tmp();
    assert.equal(configPath(undefined, {}, dir), undefined);
    assert.deepEqual(loadConfig(undefined, {}, dir), { apps: [] });
    writeFileSync(join(dir, 'openrtms.config.json'), text({ apps: [app()] }));
    assert.equal(loadConfig(undefined, {}, dir).apps.length, 1);
    writeFileSync(join(dir, 'other.json'), text({ apps: [app(), app({ products: ['phone'] })] }));
    assert.equal(loadConfig(undefined, { OPENRTMS_CONFIG: 'other.json' }, dir).apps.length, 2);
    assert.equal(loadConfig('other.json', {}, dir).apps.length, 2);
    assert.throws(() => loadConfig('missing.json', {}, dir), /missing\.json does not exist/);
  });
});

describe('config file: each kind of error is one line naming the JSON path', () => {
  it('bad values', () => {
    refuses({ apps: [app(), app({ clientSecret: '' })] }, /^apps\[1\]\.clientSecret: expected a non-empty string$/);
    refuses({ apps: [app({ clientId: 7 })] }, /^apps\[0\]\.clientId: expected a non-empty string$/);
    refuses({ apps: [{ products: ['meeting'], clientId: 'a', clientSecret: 'b' }] }, /^apps\[0\]\.secretToken: missing/);
    refuses({ apps: [app({ products: ['meeting', 'meetings'] })] }, /^apps\[0\]\.products\[1\]: expected one of meeting, webinar, session, contact_center, phone, got "meetings"$/);
    refuses({ apps: [app({ products: [] })] }, /^apps\[0\]\.products: expected a non-empty list/);
    refuses({ apps: [app({ products: ['meeting', 'meeting'] })] }, /^apps\[0\]\.products\[1\]: "meeting" is listed twice/);
    refuses({ apps: [app({ name: 'a' }), app({ name: 'a', products: ['session'] })] }, /^apps\[1\]\.name: "a" is already/);
    refuses({ apps: {} }, /^apps: expected a list/);
    refuses({ apps: ['x'] }, /^apps\[0\]: expected an object/);
    refuses({ zoomApi: { accountId: 'a', clientId: 'b' } }, /^zoomApi\.clientSecret: missing/);
    refuses({ zoomApi: { accountId: 'a', clientId: 'b', clientSecret: 'c', baseUrl: 'ftp://x' } }, /^zoomApi\.baseUrl: expected an http\(s\) URL/);
    refuses('[1]', /^\(root\): expected a JSON object/);
    refuses('{"apps": [', /^\(root\): not valid JSON/);
  });

  it('unknown keys, at any depth', () => {
    refuses({ apps: [], extra: 1 }, /^extra: unknown key/);
    refuses({ apps: [app({ clientID: 'typo' })] }, /^apps\[0\]\.clientID: unknown key \(expected one of name, products, clientId, clientSecret, secretToken\)$/);
    refuses({ zoomApi: { accountId: 'a', clientId: 'b', clientSecret: 'c', region: 'eu' } }, /^zoomApi\.region: unknown key/);
  });

  it('transcription and intelligence entries are validated, never ignored', () => {
    refuses({ apps: [app()], transcription: {} }, /^transcription: expected a list/);
    // intelligence is implemented now: an empty entry is refused for what it lacks.
    refuses({ intelligence: {} }, /^intelligence\.provider: expected "openai"/);
  });

  it('a missing variable names it and the path; secrets never appear in messages', () => {
    refuses({ apps: [app({ clientSecret: '${NOPE_SECRET}' })] }, /^apps\[0\]\.clientSecret: environment variable NOPE_SECRET is not set$/);
    refuses({ apps: [app({ secretToken: '${not valid}' })] }, /^apps\[0\]\.secretToken: "\$\{not valid\}" is not a valid/);
    const e = refuses({ apps: [app({ clientSecret: 'SUPER-SECRET-VALUE', clientId: 12 })] }, /clientId/);
    assert.doesNotMatch(e.message, /SUPER-SECRET-VALUE/);
    const e2 = refuses({ apps: [app({ clientSecret: '${S}', secretToken: 5 })] }, /secretToken/, { S: 'ENV-SECRET-VALUE' });
    assert.doesNotMatch(e2.message, /ENV-SECRET-VALUE/);
  });
});

function cli(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(process.cwd(), 'bin/openrtms.js'), ...args], { env: { PATH: process.env.PATH, ...env }, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('config file: the CLI refuses a bad one at start', () => {
  it('serve --config bad.json: exit 2, one line with the path, no stack trace, no secret', async () => {
    const dir = tmp();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, text({ apps: [app({ clientSecret: 'VERY-SECRET' }), app({ products: ['session'], clientSecret: '' })] }));
    const r = await cli(['serve', '--config', bad, '--port', '0', '--data-dir', dir], {});
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /apps\[1\]\.clientSecret: expected a non-empty string/);
    assert.doesNotMatch(r.stderr, /VERY-SECRET|at .*\.ts/);
  });

  it('serve reads ./openrtms.config.json and OPENRTMS_CONFIG; worker and demo check it too', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'openrtms.config.json'), text({ apps: [app({ clientId: '${MISSING_ID}' })] }));
    const r = await cli(['serve', '--port', '0', '--data-dir', dir], {}, dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /apps\[0\]\.clientId: environment variable MISSING_ID is not set/);
    writeFileSync(join(dir, 'bad.json'), text({ intelligence: {} }));
    const w = await cli(['worker'], { OPENRTMS_CONFIG: join(dir, 'bad.json'), NATS_URL: 'nats://127.0.0.1:1', DATABASE_URL: 'postgres://x@127.0.0.1:1/x' });
    assert.equal(w.code, 2, w.stderr);
    assert.match(w.stderr, /intelligence\.provider: expected "openai"/);
    assert.equal(w.stderr.trim().split('\n').length, 1);
    const d = await cli(['demo', '--config', join(dir, 'bad.json'), '--port', '0', '--data-dir', dir], {});
    assert.equal(d.code, 2);
    assert.match(d.stderr, /intelligence\.provider: expected "openai"/);
  });
});
