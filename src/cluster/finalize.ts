/**
 * What a worker does for a stream that ended while nobody held it (see ClusterWorker's
 * `finalizeRecording`): close the recording the dead owner left open and mark the stream stopped in
 * the store. For a stream its owner closed itself both are no-ops.
 */
import { finalizeRecording } from '../recorder/recorder.js';
import type { Store } from '../store/types.js';
import type { StreamRecord } from './records.js';

export function closeOrphanedStream(dataDir: string, store: Store): (record: StreamRecord) => Promise<boolean> {
  return async (r) => {
    const stoppedAt = r.stoppedAt ?? Date.now();
    const info = { rtmsStreamId: r.rtmsStreamId, product: r.product, meetingUuid: r.meetingUuid, startedAt: r.startedAt };
    const closed = await finalizeRecording({ dataDir, info, stoppedAt, cause: r.stopCause });
    // Keeps what an owner already wrote (the store fills only what is missing).
    await store.markStopped(r.rtmsStreamId, { stoppedAt, closeReason: 'owner-lost' });
    return closed;
  };
}
