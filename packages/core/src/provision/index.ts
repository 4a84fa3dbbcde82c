export * from './hostkey.js';
export * from './ports.js';
export * from './progress-schema.js';
export * from './steps.js';
