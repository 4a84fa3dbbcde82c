export * from './hostkey.js';
export * from './ports.js';
export * from './steps.js';
