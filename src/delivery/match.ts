/** The `match` filter of a destination: which streams and event types it takes. Pure. */
import type { DeliveryEventType, DeliveryStream, DestinationMatch } from './types.js';

/** True when every condition the filter gives holds (an absent condition matches anything). */
export function matchesFilter(match: DestinationMatch | undefined, stream: DeliveryStream, eventType?: DeliveryEventType): boolean {
  if (!match) return true;
  if (match.products && !match.products.includes(stream.product)) return false;
  if (match.meetingIds && !match.meetingIds.includes(stream.meetingUuid)) return false;
  if (eventType && match.events && !match.events.includes(eventType)) return false;
  return true;
}
