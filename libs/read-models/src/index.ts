export * from './job-queries.js';
export * from './read-model-database.js';
export { LOG_IDS_PER_COMMIT } from './commit-applier.js';
export { NOTABLE_LEVELS } from './read-model-schema.js';
export type { QuarantinedCommit, QuarantineSummary } from './quarantined-commits.js';
export * from './read-model-bulk-load.js';
export * from './durable-file.js';
export * from './read-model-folder-lock.js';
