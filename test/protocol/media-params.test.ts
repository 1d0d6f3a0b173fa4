import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Codec,
  DataOption,
  MediaType,
  SampleRate,
  TranscriptLanguage,
  audioParams,
  buildMediaParams,
  checkAudioParams,
  checkVideoParams,
  kindsOfMask,
  mediaTypeMask,
  samplesPerPacket,
  transcriptParams,
  videoParams,
} from '../../src/protocol/index.js';

describe('media parameter defaults', () => {
  it('audio defaults to the documented example: L16, 16 kHz, mono, mixed, 20 ms', () => {
    assert.deepEqual(audioParams(), { content_type: 2, sample_rate: 1, channel: 1, codec: 1, data_opt: 1, send_rate: 20 });
  });
  it('video defaults match the documented example', () => {
    assert.deepEqual(videoParams(), { content_type: 3, codec: 7, resolution: 2, data_opt: 3, fps: 25 });
  });
  it('transcript defaults to automatic language identification', () => {
    assert.deepEqual(transcriptParams(), { content_type: 5, src_language: -1, enable_lid: true });
  });
  it('pinning a transcript language turns language identification off unless asked', () => {
    assert.deepEqual(transcriptParams({ src_language: TranscriptLanguage.ENGLISH }), { content_type: 5, src_language: 9, enable_lid: false });
    assert.equal(transcriptParams({ src_language: 9, enable_lid: true }).enable_lid, true);
  });
  it('buildMediaParams fills only the asked kinds', () => {
    const p = buildMediaParams(['audio', 'transcript'], { audio: { codec: Codec.OPUS, sample_rate: SampleRate.SR_48K } });
    assert.deepEqual(Object.keys(p).sort(), ['audio', 'transcript']);
    assert.equal(p.audio?.codec, Codec.OPUS);
    assert.equal(p.audio?.data_opt, DataOption.AUDIO_MIXED_STREAM);
  });
});

describe('media parameter rules', () => {
  it('accepts the defaults', () => {
    assert.deepEqual(checkAudioParams(audioParams()), []);
    assert.deepEqual(checkVideoParams(videoParams()), []);
  });
  it('Opus needs 48 kHz', () => {
    const problems = checkAudioParams(audioParams({ codec: Codec.OPUS, sample_rate: SampleRate.SR_16K }));
    assert.deepEqual(problems.map((p) => p.field), ['audio.sample_rate']);
  });
  it('JPG/PNG at most 5 fps, H.264 at most 30 fps', () => {
    assert.equal(checkVideoParams(videoParams({ codec: Codec.JPG, fps: 6 })).length, 1);
    assert.equal(checkVideoParams(videoParams({ codec: Codec.JPG, fps: 5 })).length, 0);
    assert.equal(checkVideoParams(videoParams({ codec: Codec.H264, fps: 31 })).length, 1);
  });
  it('frame size = sample rate × duration', () => {
    assert.equal(samplesPerPacket({ sample_rate: SampleRate.SR_16K, send_rate: 20 }), 320);
    assert.equal(samplesPerPacket({ sample_rate: SampleRate.SR_48K, send_rate: 20 }), 960);
    assert.equal(samplesPerPacket({ sample_rate: SampleRate.SR_8K, send_rate: 40 }), 320);
  });
});

describe('media type bitmask', () => {
  it('combines and splits kinds', () => {
    assert.equal(mediaTypeMask(['audio', 'transcript']), MediaType.AUDIO | MediaType.TRANSCRIPT);
    assert.equal(mediaTypeMask(['audio', 'transcript']), 9);
    assert.deepEqual(kindsOfMask(9), ['audio', 'transcript']);
    assert.deepEqual(kindsOfMask(MediaType.ALL), ['audio', 'video', 'deskshare', 'transcript', 'chat']);
    assert.deepEqual(kindsOfMask(0), []);
  });
});
