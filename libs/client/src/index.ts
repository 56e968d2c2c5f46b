export * from './connection-options.js';
export * from './commit-decoding.js';
export * from './jobs-client.js';
export * from './jobs-error.js';
export * from './retry.js';
export * from './transient-failure.js';
export * from './event-feed.js';
