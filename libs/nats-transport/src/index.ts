export * from './api-request.js';
export * from './jobs-nats.server.js';
