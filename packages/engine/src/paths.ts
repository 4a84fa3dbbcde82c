import { join } from 'node:path';
import { domainName } from '@agentfleet/core/model';

/** Where an agent's files live in the state dir (names the seeds' ~/.agentvms layout used). */
export const agentDisk = (stateDir: string, agent: string) => join(stateDir, `${domainName(agent)}.qcow2`);
export const agentConsoleLog = (stateDir: string, agent: string) =>
  join(stateDir, `${domainName(agent)}.console.log`);
export const stateFile = (stateDir: string) => join(stateDir, 'state.json');
export const lockFile = (stateDir: string) => join(stateDir, 'fleet.lock');
export const sshConfigFile = (stateDir: string) => join(stateDir, 'ssh_config');
export const knownHostsFile = (stateDir: string) => join(stateDir, 'known_hosts');
