import { fileURLToPath } from 'node:url';
import {
  type AgentSpec,
  type Allocation,
  allocationOf,
  type BaseIdentity,
  type DesiredAgent,
  type DomainNetwork,
  type DomainXmlInput,
  domainProjection,
  domainXml,
  type Hypervisor,
  isLocalUri,
  reservedCoresOn,
  specHash,
} from '@agentfleet/core';
import { agentDomain, type FleetRun, fleetIdentity, selectedAgents } from './fleet-run.js';
import { chooseForHost, type HostChoice } from './host-choice.js';
import type { EngineLog } from './log.js';
import { agentConsoleLogOn, agentDisk, agentDiskOn, agentPasstSocket, agentSpiceSocket } from './paths.js';
import { HOST_KEY_FWCFG, type HostKeyStore } from './provision/pregenerated-key.js';

export class UnsupportedNetworkError extends Error {
  override name = 'UnsupportedNetworkError';
}

/** Longest unix socket path (sun_path is 108 bytes with its NUL). */
const SOCKET_PATH_MAX = 107;

export class NotAllocatedError extends Error {
  override name = 'NotAllocatedError';
}

/** Each selected agent fully resolved: allocation, XML for its host, disk, spec hash. */
export async function desiredAgents(
  run: FleetRun,
  connect: (uri: string) => Promise<Hypervisor>,
  baseIdentity: BaseIdentity,
  log: EngineLog,
  hostKeys: HostKeyStore,
): Promise<DesiredAgent[]> {
  const choices = new Map<string, HostChoice>();
  const out: DesiredAgent[] = [];
  for (const agent of selectedAgents(run)) {
    const uri = agent.libvirtUri;
    let choice = choices.get(uri);
    if (!choice) {
      choice = chooseForHost(run.fleet.config, await (await connect(uri)).facts(), log);
      choices.set(uri, choice);
    }
    const allocation = allocationOf(run.ledger, uri, agent.name);
    if (!allocation) throw new NotAllocatedError(`agent '${agent.name}' has no allocation on ${uri}`);
    const domain = agentDomain(run, agent.name);
    const input: DomainXmlInput = {
      ...agentDomainInput(
        run.stateDir,
        agent,
        allocation,
        choice,
        reservedCoresOn(run.fleet.config, agent.libvirtUri),
        run.shareDirs,
        fleetIdentity(run).id,
      ),
      domainName: domain,
      fleet: fleetIdentity(run),
    };
    const network = input.network;
    const passtSocket = network.mode === 'isolated' ? network.socketPath : undefined;
    // A host key made before first boot (`up` by default, or kept by `reset`) reaches the guest via
    // fw_cfg, which QEMU reads from the 0600 key file: the key itself is never in the XML or argv.
    // The file exists only until the guest has presented the key (engine: finishHostKeyHandover).
    const handedOver = await hostKeys.read(agent.name);
    const xml = domainXml(
      handedOver ? { ...input, fwcfgFiles: { [HOST_KEY_FWCFG]: hostKeys.fwcfgPath(agent.name) } } : input,
    );
    out.push({
      name: agent.name,
      domain,
      uri,
      ...(agent.host !== undefined && { host: agent.host }),
      specHash: specHash(xml),
      xml,
      resources: domainProjection(xml),
      disk: { path: input.diskPath, mode: run.fleet.config.diskMode, base: run.baseImage, baseIdentity },
      sshPort: allocation.sshPort,
      spicePort: allocation.spicePort,
      cores: allocation.cores,
      consoleLog: input.consoleLogPath,
      autostart: agent.autostart,
      ...(passtSocket !== undefined && { passtSocket }),
      ...(handedOver && { hostKeyHandover: { publicKey: handedOver.publicKey, xml: domainXml(input) } }),
    });
  }
  return out;
}

/** The domain of one agent on a host that made `choice`, before any per-run extras (fw_cfg). */
export function agentDomainInput(
  stateDir: string,
  agent: AgentSpec,
  allocation: Allocation,
  choice: HostChoice,
  reservedCores?: readonly number[],
  shareDirs?: Readonly<Record<string, string>>,
  fleetId?: string,
): DomainXmlInput {
  // A remote host has no state dir of fleet's: libvirt places the socket there (fleet spice reads it from the live XML).
  const local = isLocalUri(agent.libvirtUri);
  const spiceSocket = local ? agentSpiceSocket(stateDir, agent.name) : undefined;
  if (spiceSocket !== undefined) checkSocketPath(spiceSocket);
  const network: DomainNetwork =
    agent.network === 'isolated'
      ? {
          mode: 'isolated',
          socketPath: isolatedSocket(agent, agentPasstSocket(stateDir, agent.name)),
        }
      : agent.network === 'open'
        ? { mode: 'open', portForward: choice.portForward }
        : { mode: 'none' };
  return {
    agent,
    allocation,
    domainType: choice.domainType,
    network,
    ...(spiceSocket !== undefined && { spiceSocket }),
    // A disk adopted by `fleet import` stays where it is.
    diskPath: allocation.disk ?? diskOf(stateDir, agent, fleetId),
    consoleLogPath: agentConsoleLogOn(stateDir, agent.libvirtUri, agent.name),
    ...(reservedCores !== undefined && { reservedCores }),
    ...domainShares(agent, shareDirs),
  };
}

/** Where libvirt finds the wrapper that serves a read-only share (see the script). */
export const VIRTIOFSD_READ_ONLY = fileURLToPath(new URL('../libexec/virtiofsd-readonly', import.meta.url));

/** The agent's shares with their host directories as the CLI resolved and checked them (FleetRun.shareDirs). */
function domainShares(
  agent: AgentSpec,
  shareDirs: Readonly<Record<string, string>> | undefined,
): Pick<DomainXmlInput, 'shares' | 'virtiofsdReadOnly'> {
  if (agent.shares.length === 0) return {};
  const shares = agent.shares.map((s) => {
    const source = shareDirs?.[s.source];
    if (source === undefined)
      throw new Error(`share source '${s.source}' of agent ${agent.name} was not resolved`);
    return { source, tag: s.tag, target: s.target, readOnly: s.readOnly };
  });
  return { shares, virtiofsdReadOnly: VIRTIOFSD_READ_ONLY };
}

/** Where fleet makes the agent's disk: a remote host's disks are volumes of the fleet's pool, named by its id. */
function diskOf(stateDir: string, agent: AgentSpec, fleetId: string | undefined): string {
  if (isLocalUri(agent.libvirtUri)) return agentDisk(stateDir, agent.name);
  if (fleetId === undefined) {
    throw new NotAllocatedError(
      `agent '${agent.name}' is on ${agent.libvirtUri}, where its disk is a volume of the fleet's pool, named by the fleet's id: run 'fleet allocate' first`,
    );
  }
  return agentDiskOn(stateDir, fleetId, agent.libvirtUri, agent.name);
}

/** The state dir's paths end up in QEMU options (where ',' separates) and in sun_path. */
function checkSocketPath(path: string): void {
  if (path.includes(',') || Buffer.byteLength(path) > SOCKET_PATH_MAX) {
    throw new UnsupportedNetworkError(
      `socket path ${path} must have no ',' and at most ${SOCKET_PATH_MAX} bytes: choose a shorter stateDir`,
    );
  }
}

/**
 * fleet starts the agent's passt on this machine, so `isolated` needs the libvirt host to be this machine; a remote
 * host would need passt started there (not done yet). The loader refuses agents that name a remote host; this
 * catches one placed there by capacity. Never a silent fallback to a network that is not isolated.
 */
function isolatedSocket(agent: AgentSpec, socket: string): string {
  checkSocketPath(socket);
  if (!isLocalUri(agent.libvirtUri)) {
    throw new UnsupportedNetworkError(
      `agent '${agent.name}': network: isolated starts passt on this machine, but its libvirt host is ${agent.libvirtUri}, where fleet cannot start it yet: ` +
        `set network: open in ${agent.file} (the guest can then reach that host's loopback services), or network: none, or name a local host (host: ...)`,
    );
  }
  return socket;
}
