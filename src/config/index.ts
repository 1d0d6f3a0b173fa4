export * from './config.js';
export type * from './types.js';
export { parseDestinations } from './destinations.js';
export { parseRetention, retentionDays, type RetentionConfig } from './retention.js';
