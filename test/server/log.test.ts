import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import { loadConfig } from '../../src/config/index.js';
import { clearSecrets, collectSecrets, isSecretKey, redactDeep } from '../../src/util/secrets.js';

function capture() {
  let text = '';
  const destination = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { destination, text: () => text };
}

describe('logging', () => {
  it('never writes a secret, in either format', () => {
    for (const format of ['json', 'progressive']) {
      const out = capture();
      const log = createLogger({ format, level: 'info', destination: out.destination });
      log.info({ clientSecret: 'S3CRET-1', config: { secretToken: 'S3CRET-2', apiToken: 'S3CRET-3' }, req: { headers: { authorization: 'Bearer S3CRET-4' } }, signature: 'S3CRET-5' }, 'starting');
      log.flush?.();
      const text = out.text();
      assert.match(text, /starting/, format);
      assert.doesNotMatch(text, /S3CRET/, format);
    }
  });
  it('json format is one object per line with the level', () => {
    const out = capture();
    createLogger({ format: 'json', level: 'warn', destination: out.destination }).warn({ streamId: 'x' }, 'reconnecting');
    const line = JSON.parse(out.text().trim());
    assert.equal(line.msg, 'reconnecting');
    assert.equal(line.level, 40);
  });
  it('level and enabled are honoured; bad values are a clear error', () => {
    const out = capture();
    const quiet = createLogger({ format: 'json', level: 'error', destination: out.destination });
    quiet.info('hidden');
    createLogger({ format: 'json', enabled: 'false', destination: out.destination }).error('also hidden');
    assert.equal(out.text(), '');
    assert.throws(() => createLogger({ level: 'loud' }), /ZM_RTMS_LOG_LEVEL must be one of/);
    assert.throws(() => createLogger({ format: 'xml' }), /ZM_RTMS_LOG_FORMAT must be progressive or json/);
  });
  it('never writes a secret of the config file, by key at any depth or quoted inside any text', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openrtms-log-'));
    const secrets = {
      clientSecret: 'APP-CLIENT-SECRET-1',
      secretToken: 'APP-WEBHOOK-TOKEN-2',
      s2sSecret: 'S2S-CLIENT-SECRET-3',
      hookSecret: 'DEST-HOOK-SECRET-4',
      s3Key: 'DEST-S3-SECRET-KEY-5',
      azure: 'DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=QVpVUkUtS0VZLTY=;BlobEndpoint=http://127.0.0.1:1/dev',
      rtmpKey: 'live_RTMP_STREAM_KEY_7',
      envSecret: 'ENV-APP-SECRET-8',
      apiToken: 'ENV-API-TOKEN-9',
    };
    const config = {
      apps: [{ products: ['meeting'], clientId: 'cid', clientSecret: secrets.clientSecret, secretToken: '${HOOK_TOKEN}' }],
      zoomApi: { accountId: 'acc', clientId: 's2s', clientSecret: secrets.s2sSecret },
      destinations: [
        { type: 'webhook', url: 'https://app.example/rtms', secret: secrets.hookSecret },
        { type: 's3', bucket: 'meetings', region: 'us-east-1', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secrets.s3Key },
        { type: 'azure-blob', connectionString: secrets.azure, container: 'meetings' },
        { type: 'rtmp', url: `rtmp://a.rtmp.example/live2/${secrets.rtmpKey}` },
      ],
    };
    const file = join(dir, 'openrtms.config.json');
    writeFileSync(file, JSON.stringify(config));
    try {
      const loaded = loadConfig(file, { HOOK_TOKEN: secrets.secretToken, ZM_RTMS_SECRET: secrets.envSecret, OPENRTMS_API_TOKEN: secrets.apiToken });
      for (const format of ['json', 'progressive']) {
        const out = capture();
        const log = createLogger({ format, level: 'info', destination: out.destination });
        log.info({ config: loaded }, 'configuration loaded');
        // Keys of the branches to come (transcription and intelligence providers), deeper than pino's paths.
        log.info({ a: { b: { c: { transcription: [{ provider: 'deepgram', apiKey: 'DG-API-KEY-10' }], intelligence: { api_key: 'LLM-API-KEY-11', password: 'PW-12' } } } } }, 'providers');
        // Values quoted in text: an SDK error carrying a connection string, a URL with the stream key.
        log.warn({ err: new Error(`cannot reach ${secrets.azure}`), streamId: 's' }, `restream to rtmp://a.rtmp.example/live2/${secrets.rtmpKey} failed`);
        log.error(`auth with ${secrets.clientSecret} / ${secrets.s2sSecret} / ${secrets.secretToken} / ${secrets.envSecret} / Bearer ${secrets.apiToken} / ${secrets.hookSecret} / ${secrets.s3Key}`);
        log.flush?.();
        const text = out.text();
        assert.match(text, /configuration loaded/, format);
        assert.match(text, /AKIDEXAMPLE/, 'identifiers stay readable');
        for (const v of [...Object.values(secrets), 'QVpVUkUtS0VZLTY=', 'DG-API-KEY-10', 'LLM-API-KEY-11', 'PW-12']) assert.ok(!text.includes(v), `${format}: ${v} leaked`);
        assert.match(text, /\[redacted\]/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      clearSecrets();
    }
  });
  it('knows secrets by name and finds them in a config', () => {
    for (const k of ['clientSecret', 'secretToken', 'secret', 'apiKey', 'api_key', 'API-KEY', 'password', 'connectionString', 'secretAccessKey', 'authorization', 'accessToken', 'privateKey', 'sharedKey']) assert.ok(isSecretKey(k), k);
    for (const k of ['clientId', 'accountId', 'accessKeyId', 'bucket', 'url', 'userName', 'text']) assert.ok(!isSecretKey(k), k);
    assert.deepEqual(collectSecrets({ x: [{ apiKey: 'k1' }], url: 'rtmp://h/app/key2', db: 'postgres://u:p%40ss@h/db', plain: 'https://h/a/b' }).sort(), ['k1', 'key2', 'p@ss'].sort());
    assert.deepEqual(redactDeep({ n: { rejected_signature: 3, token: 'x', tokens: { a: 1 } } }), { n: { rejected_signature: 3, token: '[redacted]', tokens: '[redacted]' } });
  });
});

