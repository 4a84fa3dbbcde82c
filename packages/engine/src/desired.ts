import {
  allocationOf,
  type BaseIdentity,
  type DesiredAgent,
  type DomainXmlInput,
  domainProjection,
  domainXml,
  type Hypervisor,
  specHash,
} from '@agentfleet/core';
import { agentDomain, type FleetRun, fleetIdentity, selectedAgents } from './fleet-run.js';
import { chooseForHost, type HostChoice } from './host-choice.js';
import type { EngineLog } from './log.js';
import { agentConsoleLog, agentDisk } from './paths.js';
import { HOST_KEY_FWCFG, readPregeneratedKey } from './provision/pregenerated-key.js';

export class NotAllocatedError extends Error {
  override name = 'NotAllocatedError';
}

/** Each selected agent fully resolved: allocation, XML for its host, disk, spec hash. */
export async function desiredAgents(
  run: FleetRun,
  connect: (uri: string) => Promise<Hypervisor>,
  baseIdentity: BaseIdentity,
  log: EngineLog,
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
      agent,
      domainName: domain,
      fleet: fleetIdentity(run),
      allocation,
      domainType: choice.domainType,
      portForward: choice.portForward,
      // A disk adopted by `fleet import` stays where it is.
      diskPath: allocation.disk ?? agentDisk(run.stateDir, agent.name),
      consoleLogPath: agentConsoleLog(run.stateDir, agent.name),
      reservedCores: run.fleet.config.reservedCores,
    };
    // A host key made before first boot (`up --pregenerate-host-keys`) reaches the guest via fw_cfg.
    const hostKey = await readPregeneratedKey(run.stateDir, agent.name);
    if (hostKey) input.fwcfg = { [HOST_KEY_FWCFG]: hostKey.privateKey };
    const xml = domainXml(input);
    out.push({
      name: agent.name,
      domain,
      uri,
      specHash: specHash(xml),
      xml,
      resources: domainProjection(xml),
      disk: { path: input.diskPath, mode: run.fleet.config.diskMode, base: run.baseImage, baseIdentity },
      sshPort: allocation.sshPort,
      spicePort: allocation.spicePort,
      cores: allocation.cores,
      consoleLog: input.consoleLogPath,
    });
  }
  return out;
}
