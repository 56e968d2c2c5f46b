export * from './service-config.js';
export * from './service-config.module.js';
