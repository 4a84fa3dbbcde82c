import { basename, dirname, join } from 'node:path';
import { domainName } from '@agentfleet/core/model';
import { isLocalUri } from '@agentfleet/core/ssh/host-ssh';

/** Where an agent's files live in the state dir (names the seeds' ~/.agentvms layout used). */
export const agentDisk = (stateDir: string, agent: string) => join(stateDir, `${domainName(agent)}.qcow2`);
/** Where a disk is built before it gets its name: a run killed mid-copy leaves it (the next create discards it). */
export const partialDiskOf = (disk: string) => join(dirname(disk), `.${basename(disk)}.partial`);
/**
 * The dir pool a fleet keeps its volumes in on a remote libvirt host (base image, agents' disks), named by the fleet:
 * under the system daemon's images directory, as libvirt's own default pool is.
 */
export const fleetPool = (fleetId: string) => ({
  name: `agentfleet-${fleetId}`,
  path: `/var/lib/libvirt/images/agentfleet-${fleetId}`,
});
/** An agent's disk on the host `uri` names: a file in the state dir here, a volume of the fleet's pool there. */
export const agentDiskOn = (stateDir: string, fleetId: string, uri: string, agent: string) =>
  isLocalUri(uri) ? agentDisk(stateDir, agent) : join(fleetPool(fleetId).path, `${domainName(agent)}.qcow2`);
/**
 * An agent's serial console log on the host `uri` names: in the state dir here; on a remote host (which has no state
 * dir of fleet's) next to libvirt's own QEMU logs, written by that host's virtlogd.
 */
export const agentConsoleLogOn = (stateDir: string, uri: string, agent: string) =>
  isLocalUri(uri)
    ? agentConsoleLog(stateDir, agent)
    : `/var/log/libvirt/qemu/${domainName(agent)}.console.log`;
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
/**
 * Where a fleet keeps its agents' runtime sockets on a remote libvirt host, which has no state dir of fleet's: under
 * /run (tmpfs, gone with a reboot, as the passts serving them are), named by the fleet's id.
 */
export const remoteRunRoot = (fleetId: string) => `/run/agentfleet/${fleetId}`;
/** An agent's passt socket on the host `uri` names: in the state dir here, under remoteRunRoot there. */
export function agentPasstSocketOn(
  stateDir: string,
  fleetId: string | undefined,
  uri: string,
  agent: string,
) {
  if (isLocalUri(uri)) return agentPasstSocket(stateDir, agent);
  if (fleetId === undefined)
    throw new Error(
      `agent '${agent}' is on ${uri}, where its passt's socket is named by the fleet's id: run 'fleet allocate' first`,
    );
  return agentPasstSocket(remoteRunRoot(fleetId), agent);
}
export const agentSpiceSocket = (stateDir: string, agent: string) =>
  join(agentRunDir(stateDir, agent), 'spice.sock');
/** This machine's end of `fleet spice`'s tunnel to a remote agent's display. */
export const agentSpiceTunnel = (stateDir: string, agent: string) =>
  join(agentRunDir(stateDir, agent), 'spice-tunnel.sock');
