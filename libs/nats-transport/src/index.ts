export * from './api-request.js';
export * from './jobs-nats.server.js';
export * from './request-body.js';
