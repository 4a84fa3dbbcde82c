export * from './hostkey.js';
export * from './interfaces.js';
export * from './progress-schema.js';
export * from './steps.js';
