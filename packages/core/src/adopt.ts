import type { Allocation } from './ledger.js';
import type { AgentSpec, FleetConfig } from './model.js';

/** What a domain made outside this fleet holds, read from its XML. */
export interface FoundResources {
  sshPort?: number;
  spicePort?: number;
  /** Distinct host cores its vCPUs are pinned to (ascending). */
  cores: number[];
  mac?: string;
  /** Absolute path of its disk. */
  disk?: string;
}

/** One field of the adopted allocation: kept from the domain, or what the fleet gives instead and why. */
export interface AdoptedField {
  field: 'sshPort' | 'spicePort' | 'cores' | 'mac' | 'disk';
  found?: string;
  recorded: string;
  /** Set when the domain's value is not kept. */
  why?: string;
}

export interface Adoption {
  allocation: Allocation;
  fields: AdoptedField[];
}

const MAC = /^52:54:00(:[0-9a-f]{2}){3}$/;

/**
 * The allocation `fleet import` records for an agent adopting an existing domain: each of the
 * domain's ports, cores, MAC and disk is kept when it fits the fleet's rules (the agent's YAML,
 * the fleet's ranges and reserved cores, the other agents' allocations on that host), otherwise
 * the agent keeps what the ledger already gives it. `defaultDisk` is where fleet would put the disk.
 */
export function adoptAllocation(input: {
  agent: AgentSpec;
  config: FleetConfig;
  found: FoundResources;
  current: Allocation;
  /** Other agents' allocations on the same host (ports, cores) and on every host (MACs). */
  others: { sameHost: Allocation[]; allMacs: string[] };
  defaultDisk: string;
}): Adoption {
  const { agent, config, found, current, others } = input;
  const fields: AdoptedField[] = [];
  const takenPorts = new Set(others.sameHost.flatMap((a) => [a.sshPort, a.spicePort]));
  const takenCores = new Set(others.sameHost.flatMap((a) => a.cores));

  const port = (
    field: 'sshPort' | 'spicePort',
    found: number | undefined,
    explicit: number | undefined,
    range: { start: number; end: number },
    what: string,
  ): number => {
    const recorded = current[field];
    const keep = (why?: string) => {
      fields.push({
        field,
        recorded: String(recorded),
        ...(found !== undefined && { found: String(found) }),
        ...(why && { why }),
      });
      return recorded;
    };
    if (found === undefined) return keep(`the domain has no ${what} port`);
    if (explicit !== undefined && explicit !== found)
      return keep(`${agent.file} sets ports.${field === 'sshPort' ? 'ssh' : 'spice'}: ${explicit}`);
    if (found < range.start || found > range.end)
      return keep(`outside the fleet's ${what} range ${range.start}-${range.end}`);
    if (takenPorts.has(found)) return keep('another agent of this fleet has it');
    fields.push({ field, found: String(found), recorded: String(found) });
    return found;
  };
  const sshPort = port('sshPort', found.sshPort, agent.sshPort, config.sshPorts, 'SSH');
  const spicePort = port('spicePort', found.spicePort, agent.spicePort, config.spicePorts, 'SPICE');

  const coresWhy =
    found.cores.length === 0
      ? 'the domain pins no cores'
      : agent.cores !== undefined
        ? `${agent.file} sets cores`
        : found.cores.length !== agent.vcpus
          ? `${found.cores.length} pinned core(s) for ${agent.vcpus} vCPU(s)`
          : found.cores.some((c) => config.reservedCores.includes(c))
            ? 'a pinned core is reserved for the host (fleet.yaml reservedCores)'
            : !agent.shareCores && found.cores.some((c) => takenCores.has(c))
              ? 'another agent of this fleet pins a core of it'
              : undefined;
  const cores = coresWhy ? current.cores : found.cores;
  fields.push({
    field: 'cores',
    recorded: cores.join(','),
    ...(found.cores.length > 0 && { found: found.cores.join(',') }),
    ...(coresWhy && { why: coresWhy }),
  });

  const mac = found.mac?.toLowerCase();
  const macWhy =
    mac === undefined
      ? 'the domain has no MAC'
      : !MAC.test(mac)
        ? 'fleet MACs are 52:54:00:xx:xx:xx'
        : others.allMacs.includes(mac)
          ? 'another agent of this fleet has it'
          : undefined;
  const keptMac = macWhy ? current.mac : (mac as string);
  fields.push({
    field: 'mac',
    recorded: keptMac,
    ...(mac && { found: mac }),
    ...(macWhy && { why: macWhy }),
  });

  const allocation: Allocation = { sshPort, spicePort, cores, mac: keptMac };
  if (found.disk !== undefined) {
    if (found.disk !== input.defaultDisk) allocation.disk = found.disk;
    fields.push({ field: 'disk', found: found.disk, recorded: found.disk });
  }
  return { allocation, fields };
}
