/** The RTMS wire protocol: constants, message schemas, parsing, signatures, media parameters. No I/O. */
export * from './constants.js';
export * from './schema.js';
export * from './messages.js';
export * from './parse.js';
export * from './signature.js';
export * from './media-params.js';
export * from './webhook.js';
export * from './chat.js';
export * from './events.js';
