export * from './agent-log.js';
export * from './book-store.js';
export * from './failure.js';
export * from './flake.js';
export * from './fleet-provisioner.js';
export * from './provision-agent.js';
export * from './rebuild.js';
export * from './rebuild-agents.js';
