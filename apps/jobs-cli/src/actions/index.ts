export * from './jobs.js';
export * from './logs.js';
export * from './rejects.js';
export * from './watch.js';
export * from './transfer.js';
export * from './follow-job.js';
