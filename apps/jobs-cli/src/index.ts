export * from './cli.js';
export * from './definitions.js';
export * from './exit-codes.js';
export * from './format.js';
export * from './progress.js';
export * from './program.js';
export * from './settings.js';
