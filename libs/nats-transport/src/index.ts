export * from './api-request.js';
export * from './embedded-nats-server.js';
export * from './jobs-nats.server.js';
export * from './service-config.js';
export * from './bootstrap.js';
export * from './service-config.module.js';
