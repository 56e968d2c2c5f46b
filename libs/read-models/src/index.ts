export * from './job-queries.js';
export * from './read-model-database.js';
