export * from './fingerprint.js';
export * from './host-ssh.js';
export * from './known-hosts.js';
export * from './pin.js';
export * from './remote-shell.js';
export * from './ssh-config.js';
