export * from './job-decider.js';
export * from './job-state.js';
export * from './commit-check.js';
