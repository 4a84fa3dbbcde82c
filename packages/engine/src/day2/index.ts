export * from './console.js';
export * from './exec.js';
export * from './follow.js';
export * from './journal.js';
export * from './power.js';
export * from './restart.js';
export * from './select.js';
export * from './shells.js';
