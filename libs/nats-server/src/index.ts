export * from './embedded-nats-server.js';
export * from './nats-server-process.js';
