/**
 * openrtms: a pure-TypeScript toolkit for Zoom Realtime Media Streams (RTMS).
 *
 * - `RtmsClient` joins a stream from a webhook payload and emits typed media and events.
 * - `Emulator` is the Zoom side on loopback, for development and tests without a Zoom account.
 * - The protocol layer (constants, schemas, signatures) is pure and exported for your own tooling.
 */
export * from './errors.js';
export * from './protocol/index.js';
export * from './client/index.js';
