import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import rtms, { Client, generateSignature } from '../../src/compat/index.js';
import { Emulator } from '../../src/emulator/index.js';
import { demoScenario } from '../../src/emulator/scenario.js';
import { rtmsSignature } from '../../src/protocol/index.js';

describe('@zoom/rtms-shaped facade', () => {
  it('exposes the SDK constant tables with the wire values', () => {
    assert.equal(rtms.AudioCodec.OPUS, 4);
    assert.equal(rtms.AudioSampleRate.SR_48K, 3);
    assert.equal(rtms.MEDIA_TYPE_TRANSCRIPT, 8);
    assert.equal(rtms.AudioDataOption.AUDIO_MULTI_STREAMS, 2);
    assert.equal(rtms.VideoCodec.H264, 7);
  });
  it('generateSignature matches the handshake signature', () => {
    assert.equal(generateSignature({ client: 'c', secret: 's', uuid: 'u', streamId: 'x' }), rtmsSignature('c', 's', 'u', 'x'));
  });
  it('setAudioParams takes the SDK\'s camelCase names and asks for Opus 48 kHz', async () => {
    const got: { size: number; userName: string }[] = [];
    let joined = -1;
    const emu = new Emulator({
      clientId: 'c',
      clientSecret: 's',
      secretToken: 't',
      scenario: demoScenario(2),
      fast: true,
      onWebhook: (body) => {
        if (!String(body.event).endsWith('rtms_started')) return;
        const client = new Client();
        client.setAudioParams({ codec: rtms.AudioCodec.OPUS, sampleRate: rtms.AudioSampleRate.SR_48K, channel: rtms.AudioChannel.STEREO, dataOpt: rtms.AudioDataOption.AUDIO_MIXED_STREAM });
        client.onAudioData((buffer, size, _ts, meta) => got.push({ size, userName: meta.userName }));
        client.onJoinConfirm((r) => (joined = r));
        client.join({ ...(body.payload as object), client: 'c', secret: 's' });
      },
    });
    await emu.start();
    const summary = await emu.run();
    await emu.close();
    assert.equal(joined, 0);
    assert.equal(got.length, summary.sent.audio);
    assert.ok(got[0].size > 0 && got[0].size < 1000, 'Opus-sized frames, not 3840-byte PCM');
  });
});
