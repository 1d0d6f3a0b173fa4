/**
 * The one place the intelligence layer reads stored transcripts. `source` picks a transcript track
 * (`zoom`, the default, or a speech-to-text provider's name).
 */
import type { Store, TranscriptSegment } from '../store/types.js';

export async function readTranscript(store: Store, rtmsStreamId: string, source?: string): Promise<TranscriptSegment[]> {
  return store.transcript(rtmsStreamId, { source: source ?? 'zoom' });
}
