/** The RTMS client. */
export { RtmsClient, toTarget } from './client.js';
export { backoffDelay, DEFAULT_RECONNECT } from './backoff.js';
export { classifyHandshakeStatus, classifyStreamEnd } from './termination.js';
export type * from './types.js';
