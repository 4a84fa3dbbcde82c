import { basename, dirname, join } from 'node:path';
import { domainName } from '@agentfleet/core/model';

/** Where an agent's files live in the state dir (names the seeds' ~/.agentvms layout used). */
export const agentDisk = (stateDir: string, agent: string) => join(stateDir, `${domainName(agent)}.qcow2`);
/** Where a disk is built before it gets its name: a run killed mid-copy leaves it (the next create discards it). */
export const partialDiskOf = (disk: string) => join(dirname(disk), `.${basename(disk)}.partial`);
export const agentConsoleLog = (stateDir: string, agent: string) =>
  join(stateDir, `${domainName(agent)}.console.log`);
export const stateFile = (stateDir: string) => join(stateDir, 'state.json');
export const lockFile = (stateDir: string) => join(stateDir, 'fleet.lock');
export const sshConfigFile = (stateDir: string) => join(stateDir, 'ssh_config');
export const knownHostsFile = (stateDir: string) => join(stateDir, 'known_hosts');
/**
 * An agent's sockets (its passt, its SPICE display) live in a directory only fleet's user may
 * enter (0700): the socket is the display's and the network's only way in, the directory its lock.
 */
export const agentRunDir = (stateDir: string, agent: string) => join(stateDir, 'run', domainName(agent));
export const agentPasstSocket = (stateDir: string, agent: string) =>
  join(agentRunDir(stateDir, agent), 'passt.sock');
export const agentSpiceSocket = (stateDir: string, agent: string) =>
  join(agentRunDir(stateDir, agent), 'spice.sock');
