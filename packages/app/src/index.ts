// The application API: what a front-end calls after parsing its input (docs/api.md).
// Modules are also importable one by one (`@agentfleet/app/fleet-files`), so a command that
// needs no hypervisor (validate) does not load the libvirt addon.
export * from './add.js';
export * from './admin-identity.js';
export * from './agent-handle.js';
export * from './agent-shells.js';
export * from './allocate.js';
export * from './connections.js';
export * from './console.js';
export * from './context.js';
export * from './copy.js';
export * from './doctor.js';
export * from './errors.js';
export * from './exec.js';
export * from './fleet-files.js';
export * from './goal.js';
export * from './host-access.js';
export * from './host-keys.js';
export * from './host-snapshot.js';
export * from './import.js';
export * from './keys.js';
export * from './logs.js';
export * from './nix-data.js';
export * from './provision.js';
export * from './provisioning.js';
export * from './remove.js';
export * from './reset.js';
export * from './restart.js';
export * from './runtime.js';
export * from './secrets.js';
export * from './secrets-files.js';
export * from './snapshots.js';
export * from './spice.js';
export * from './ssh.js';
export * from './ssh-files.js';
export * from './status.js';
export * from './xml.js';
