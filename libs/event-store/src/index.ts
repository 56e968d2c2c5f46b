export * from './event-store.module.js';
export * from './event-store.port.js';
export * from './in-memory-event-store.js';
export * from './jetstream-event-store.js';
export * from './jetstream-publisher.js';
