import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SilenceKeepAlive } from '../../../src/intelligence/stt/keepalive-silence.js';

describe('SilenceKeepAlive', () => {
  it('sends silence only after the idle time, and maps vendor times back to the sink timeline', () => {
    const k = new SilenceKeepAlive(16000, 1000, 100);
    const t0 = Date.now();
    k.noteAudio(32000); // 1000 ms of audio
    assert.equal(k.due(t0 + 500), undefined);
    const pad = k.due(t0 + 1500);
    assert.equal(pad?.length, 3200, '100 ms of s16le silence at 16 kHz');
    assert.ok(pad!.every((b) => b === 0));
    assert.equal(k.due(t0 + 1600), undefined, 'the idle clock restarts after silence');
    k.due(t0 + 2600); // a second 100 ms, right after the first
    k.noteAudio(16000); // 500 ms more audio
    assert.equal(k.insertedMs, 200);
    assert.equal(k.toLocal(500), 500, 'before the silence: unchanged');
    assert.equal(k.toLocal(1050), 1000, 'inside the silence: its start');
    assert.equal(k.toLocal(1200), 1000);
    assert.equal(k.toLocal(1450), 1250, 'after it: shifted by all of it');
  });

  it('never sends silence when disabled', () => {
    const k = new SilenceKeepAlive(16000, 0);
    assert.equal(k.due(Date.now() + 60_000), undefined);
  });
});
