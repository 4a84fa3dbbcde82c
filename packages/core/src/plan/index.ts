export * from './base-gc.js';
export * from './compute.js';
export * from './interfaces.js';
export * from './projection.js';
export * from './render.js';
export * from './state.js';
export * from './types.js';
