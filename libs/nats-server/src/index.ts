export * from './embedded-nats-server.js';
