export * from './job-queries.js';
export * from './read-model-database.js';
export * from './read-model-bulk-load.js';
export * from './durable-file.js';
export * from './read-model-folder-lock.js';
