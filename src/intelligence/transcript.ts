/**
 * The one place the intelligence layer reads stored transcripts. `source` picks a transcript track
 * (`zoom`, or a speech-to-text provider's name) once the store keeps several; until then every
 * segment is Zoom's and `source` other than `zoom` finds nothing.
 */
import type { Store, TranscriptSegment } from '../store/types.js';

export async function readTranscript(store: Store, rtmsStreamId: string, source?: string): Promise<TranscriptSegment[]> {
  if (source !== undefined && source !== 'zoom') return [];
  return store.transcript(rtmsStreamId);
}
