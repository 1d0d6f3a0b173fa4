import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { attachPipeline } from '../../src/pipeline/pipeline.js';
import type { RtmsClient } from '../../src/client/client.js';
import type { AudioFrame, StreamSink } from '../../src/pipeline/types.js';

class Counting implements StreamSink {
  #audio = 0;
  transcripts: string[] = [];
  get audio(): number {
    return this.#audio;
  }
  onAudio(): void {
    this.#audio++; // a private field: fails unless called as a method of its sink
  }
  onTranscript(t: { text: string }): void {
    this.transcripts.push(t.text);
  }
  async close(): Promise<void> {}
}

const frame = (i: number): AudioFrame => ({ userId: 0, userName: '', data: Buffer.alloc(4), timestamp: i, receivedAt: i });

describe('pipeline fan-out', () => {
  it('hands each frame to every sink that takes it, as a method call; a throwing sink is isolated and reported once', async () => {
    const client = new EventEmitter() as unknown as RtmsClient;
    const a = new Counting();
    const b = new Counting();
    const thrower: StreamSink = {
      onAudio() {
        throw new Error('boom');
      },
      async close() {},
    };
    const reported: [number, string][] = [];
    const p = attachPipeline(client, { rtmsStreamId: 's', product: 'meeting', meetingUuid: 'm', startedAt: 0 }, [a, thrower, b], (i, err) => reported.push([i, (err as Error).message]));
    for (let i = 0; i < 5; i++) client.emit('audio', frame(i));
    client.emit('transcript', { userId: 1, userName: 'A', text: 'hello', timestamp: 1, receivedAt: 1 });
    client.emit('video', { kind: 'video', userId: 1, userName: 'A', data: Buffer.alloc(1), timestamp: 1, receivedAt: 1 }); // nobody takes video
    assert.equal(a.audio, 5);
    assert.equal(b.audio, 5);
    assert.deepEqual(b.transcripts, ['hello']);
    assert.deepEqual(p.sinkErrors, [0, 5, 0]);
    assert.deepEqual(reported, [[1, 'boom']]);
    await p.close();
    client.emit('audio', frame(9));
    assert.equal(a.audio, 5, 'detached after close');
  });
});
