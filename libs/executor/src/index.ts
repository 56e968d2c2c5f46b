export * from './job-handler.js';
