/**
 * EVENT_UPDATE numbers mean different things per product: meetings, webinars and Video SDK sessions
 * use 10–14 for chat groups (July 2026) where Contact Center voice uses 8–28 for its own call events.
 * This reads an event type by product. Pure.
 */
import { ChatGroupEventType, ContactCenterEventType, EventType, nameOf } from './constants.js';
import type { Product } from './webhook.js';

/** The constant's name of an event type for a product, e.g. `CHAT_GROUP_CREATE` or `USER_ANSWERED` for 10. */
export function eventName(product: Product, eventType: number): string | undefined {
  if (product === 'contact_center') {
    // Contact Center keeps the meeting meanings of 1–7 and has its own from 8 on.
    const cc = eventType >= 8 ? nameOf(ContactCenterEventType, eventType) : nameOf(EventType, eventType);
    return cc === undefined ? undefined : String(cc);
  }
  const n = nameOf(EventType, eventType) ?? nameOf(ChatGroupEventType, eventType);
  return n === undefined ? undefined : String(n);
}

/** True when the event type is a chat-group event (10–14) for this product. */
export function isChatGroupEvent(product: Product, eventType: number): boolean {
  return product !== 'contact_center' && eventType >= ChatGroupEventType.CHAT_GROUP_CREATE && eventType <= ChatGroupEventType.CHAT_GROUP_MEMBER_STATUS_UPDATE;
}
