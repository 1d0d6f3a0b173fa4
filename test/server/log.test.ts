import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';

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
});
