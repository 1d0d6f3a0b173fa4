import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { DeliveryHub } from '../../src/delivery/hub.js';
import { matchesFilter } from '../../src/delivery/match.js';
import type { DestinationFactories } from '../../src/delivery/factories.js';
import type { DeliveryEvent, Destination, DestinationConfig, FinishedRecording } from '../../src/delivery/types.js';
import type { StreamSink } from '../../src/pipeline/types.js';
import type { StreamInfo } from '../../src/pipeline/types.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'openrtms-hub-'));
  dirs.push(d);
  return d;
};

/** Destinations that record what the hub hands them (stand-ins for webhook, storage and RTMP). */
function fakes() {
  const got: Record<string, DeliveryEvent[]> = {};
  const recordings: Record<string, FinishedRecording[]> = {};
  const liveSinks: Record<string, StreamInfo[]> = {};
  const base = (c: DestinationConfig): Destination => ({
    name: c.name,
    type: c.type,
    matches: (s, t) => (c.type !== 'webhook' || !t || !c.events || c.events.includes(t)) && matchesFilter(c.match, s, t),
    stats: () => ({ queued: 0, delivered: 0, retried: 0, failed: 0, lagMs: 0 }),
    close: async () => {},
  });
  const factories: DestinationFactories = {
    webhook: (c) => ({ ...base(c), deliver: (e) => (got[c.name] ??= []).push(e) }),
    s3: (c) => ({
      ...base(c),
      recordingFinished: async (r) => {
        (recordings[c.name] ??= []).push(r);
        return [{ path: 'audio/mixed.wav', url: `s3://${c.bucket}/${c.prefix}${r.info.rtmsStreamId}/audio/mixed.wav`, bytes: 3, sha256: 'abc' }];
      },
    }),
    rtmp: (c) => ({ ...base(c), sinkFor: (info): StreamSink => ((liveSinks[c.name] ??= []).push(info), { close: async () => {} }) }),
  };
  return { got, recordings, liveSinks, factories };
}

const info = (id: string, product: StreamInfo['product'] = 'meeting'): StreamInfo => ({ rtmsStreamId: id, meetingUuid: `m-${id}`, product, startedAt: 1000 });
const hook = (name: string, extra: Partial<DestinationConfig> = {}) => ({ type: 'webhook', name, url: 'http://x', secret: 's', maxAgeHours: 24, timeoutMs: 1000, ...extra }) as DestinationConfig;

describe('DeliveryHub', () => {
  it('routes each event to the destinations whose match and events take it; ids are deterministic', () => {
    const f = fakes();
    const hub = new DeliveryHub({ dataDir: tmp(), factories: f.factories, destinations: [hook('all'), hook('meetings', { match: { products: ['meeting'] } }), hook('stops', { events: ['stream.stopped'] } as never)] });
    const [sink] = hub.sinksFor(info('a'));
    sink.onEvent!({ type: 'joined', timestamp: 5, data: { reconnected: false } });
    sink.onEvent!({ type: 'joined', timestamp: 6, data: { reconnected: true } });
    sink.onTranscript!({ userId: 7, userName: 'Ada', text: 'hi', timestamp: 10, startTime: 9, endTime: 10, receivedAt: 11 });
    const [webinar] = hub.sinksFor(info('b', 'webinar'));
    webinar.onEvent!({ type: 'participant_join', timestamp: 12, userId: 8, userName: 'Bo' });
    webinar.onEvent!({ type: 'active_speaker', timestamp: 13, userId: 8 });
    assert.deepEqual(f.got.all.map((e) => e.type), ['stream.started', 'transcript.segment', 'participant.joined']);
    assert.deepEqual(f.got.meetings.map((e) => e.type), ['stream.started', 'transcript.segment']);
    assert.equal(f.got.stops, undefined);
    // The same happening in another process (after a restart) gets the same id.
    const g = fakes();
    const again = new DeliveryHub({ dataDir: tmp(), factories: g.factories, destinations: [hook('all')] });
    again.sinksFor(info('a'))[0].onTranscript!({ userId: 7, userName: 'Ada', text: 'hi', timestamp: 10, startTime: 9, endTime: 10, receivedAt: 99 });
    assert.equal(g.got.all[0].id, f.got.all[1].id);
    assert.notEqual(f.got.all[0].id, f.got.all[1].id);
  });

  it('stream.stopped goes out once the pipeline has closed (with the close reason), not for a stream handed over', () => {
    const f = fakes();
    const hub = new DeliveryHub({ dataDir: tmp(), factories: f.factories, destinations: [hook('all')] });
    const [handed] = hub.sinksFor(info('h'));
    handed.onEvent!({ type: 'closed', timestamp: 50, data: { reason: 'closed' } });
    void handed.close();
    const [ended] = hub.sinksFor(info('e'));
    ended.onEvent!({ type: 'closed', timestamp: 60, data: { reason: 'stream-terminated', stop_reason: 6 } });
    void ended.close();
    assert.deepEqual(f.got.all ?? [], [], 'nothing before the pipeline closed');
    hub.pipelineClosed(info('e'));
    assert.deepEqual(f.got.all.map((e) => [e.type, e.stream.rtmsStreamId, e.createdAt, e.data]), [['stream.stopped', 'e', 60, { reason: 'stream-terminated', stopReason: 6 }]]);
  });

  it('object storage: recording.ready per stored file; live sinks only for matching streams; local files without storage', async () => {
    const f = fakes();
    const dataDir = tmp();
    const hub = new DeliveryHub({
      dataDir,
      factories: f.factories,
      destinations: [hook('all'), { type: 's3', name: 'bucket', bucket: 'b', prefix: 'p/', region: 'r', forcePathStyle: false, deleteLocal: false, match: { products: ['meeting'] } }, { type: 'rtmp', name: 'yt', url: 'rtmp://h/app/k', match: { meetingIds: ['m-a'] } }],
    });
    assert.equal(hub.sinksFor(info('a')).length, 2, 'DeliverySink + RTMP');
    assert.equal(hub.sinksFor(info('c', 'webinar')).length, 1);
    assert.deepEqual(f.liveSinks.yt.map((i) => i.rtmsStreamId), ['a']);
    hub.pipelineClosed(info('a'));
    const dir = join(dataDir, 'recordings', 'c');
    mkdirSync(join(dir, 'audio'), { recursive: true });
    writeFileSync(join(dir, 'audio', 'mixed.wav'), 'RIFF');
    writeFileSync(join(dir, 'manifest.json'), '{}');
    hub.pipelineClosed(info('c', 'webinar'));
    await hub.close();
    assert.deepEqual(f.recordings.bucket.map((r) => [r.info.rtmsStreamId, r.dir]), [['a', join(dataDir, 'recordings', 'a')]]);
    const ready = f.got.all.filter((e) => e.type === 'recording.ready').map((e) => [e.stream.rtmsStreamId, e.data]);
    assert.deepEqual(ready, [
      ['a', { path: 'audio/mixed.wav', url: 's3://b/p/a/audio/mixed.wav', bytes: 3, sha256: 'abc', destination: 'bucket' }],
      ['c', { path: 'audio/mixed.wav', url: '/api/streams/c/files/audio/mixed.wav', bytes: 4, sha256: createHash('sha256').update('RIFF').digest('hex') }],
      ['c', { path: 'manifest.json', url: '/api/streams/c/files/manifest.json', bytes: 2, sha256: createHash('sha256').update('{}').digest('hex') }],
    ]);
  });
});
