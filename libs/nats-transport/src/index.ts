export * from './api-request.js';
export * from './jobs-nats.server.js';
export * from './nats-failure.js';
export * from './pass-through-exception-filter.js';
export * from './request-body.js';
