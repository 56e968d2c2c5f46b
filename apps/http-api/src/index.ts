export * from './api-error.js';
export * from './http-api.config.js';
export * from './start-http-api.js';
