/** Delivery: `transcript.segment` carries `source` — `zoom` for Zoom's transcript, the track's name for speech-to-text. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeliverySink } from '../../../src/delivery/sink.js';
import type { DeliveryEvent } from '../../../src/delivery/types.js';

describe('DeliverySink: transcript.segment with source', () => {
  it('Zoom\'s segment and a provider\'s segment of the same words are two events, each naming its track', () => {
    const events: DeliveryEvent[] = [];
    const sink = new DeliverySink({ rtmsStreamId: 's', product: 'meeting', meetingUuid: 'm', startedAt: 1 }, (e) => events.push(e));
    sink.onTranscript({ userId: 7, userName: 'Ann', text: 'ship it', timestamp: 100, receivedAt: 100 });
    const words = [{ text: 'ship', startTime: 100, endTime: 200 }, { text: 'it', startTime: 200, endTime: 300 }];
    sink.onTrackSegment({ source: 'deepgram', userId: 7, userName: 'Ann', text: 'ship it', timestamp: 100, startTime: 100, endTime: 300, words });
    sink.onTrackSegment({ source: 'deepgram', userId: 7, userName: 'Ann', text: 'ship it', timestamp: 100, startTime: 100, endTime: 300, words });
    assert.deepEqual(events.map((e) => [e.type, e.data.source]), [['transcript.segment', 'zoom'], ['transcript.segment', 'deepgram'], ['transcript.segment', 'deepgram']]);
    assert.notEqual(events[0].id, events[1].id, 'different tracks, different event ids');
    assert.equal(events[1].id, events[2].id, 'the same segment again is the same event (idempotency key)');
    assert.deepEqual(events[1].data, { source: 'deepgram', userId: '7', userName: 'Ann', text: 'ship it', timestamp: 100, startTime: 100, endTime: 300, words });
  });
});

describe('openrtms search: hits of a speech-to-text track say which', () => {
  it('formatHit marks a provider track, not Zoom\'s', async () => {
    const { formatHit } = await import('../../../src/cli/search.js');
    const base = { rtmsStreamId: 's', kind: 'transcript' as const, userId: '7', speaker: 'Ann', text: 'ship it', timestamp: Date.UTC(2025, 0, 2, 10, 11, 12), snippet: '<mark>ship</mark> it', score: 1 };
    assert.equal(formatHit({ ...base, source: 'zoom' }, false), '2025-01-02 10:11:12Z  Ann: ship it');
    assert.equal(formatHit({ ...base, source: 'deepgram' }, false), '2025-01-02 10:11:12Z  Ann (deepgram): ship it');
  });
});
