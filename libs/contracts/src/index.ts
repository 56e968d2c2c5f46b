export * from './commands.js';
export * from './errors.js';
export * from './events.js';
export * from './queries.js';
export * from './statuses.js';
export * from './subjects.js';
export * from './validation.js';
export * from './stored-events.js';
