// Cross-field rules: each a small function returning problems as (path, message).
// Paths are the dotted field paths of the YAML file the problem is in.
import { memoryMiB } from './memory.js';
import type { AgentSpec, FleetConfig } from './model.js';
import { agentNameProblem, unixUserProblem } from './names.js';
import type { AgentFile } from './schemas.js';
import { shareProblems } from './shares.js';
import { libvirtUriProblem } from './uri-safety.js';

export interface RuleProblem {
  path: string;
  message: string;
}

/** A problem in some agent's file (cross-agent rules). */
export interface AgentProblem extends RuleProblem {
  file: string;
}

type FleetRule = (c: FleetConfig) => RuleProblem[];
type AgentRule = (a: AgentSpec, raw: AgentFile, c: FleetConfig) => RuleProblem[];

const rangeOrdered: FleetRule = (c) =>
  (['sshPorts', 'spicePorts'] as const)
    .filter((k) => c[k].end < c[k].start)
    .map((k) => ({ path: `${k}.end`, message: `end ${c[k].end} is below start ${c[k].start}` }));

const rangesDisjoint: FleetRule = (c) =>
  c.sshPorts.start <= c.spicePorts.end && c.spicePorts.start <= c.sshPorts.end
    ? [
        {
          path: 'spicePorts',
          message: `SPICE ports ${c.spicePorts.start}-${c.spicePorts.end} overlap SSH ports ${c.sshPorts.start}-${c.sshPorts.end}`,
        },
      ]
    : [];

const reservedUnique: FleetRule = (c) =>
  c.reservedCores.flatMap((core, i) =>
    c.reservedCores.indexOf(core) < i
      ? [{ path: `reservedCores.${i}`, message: `core ${core} is listed twice` }]
      : [],
  );

/** A URI problem unless fleet.yaml lists that exact URI in unsafeLibvirtUris. */
function unsafeUri(uri: string, c: FleetConfig): string | undefined {
  const problem = libvirtUriProblem(uri);
  if (!problem || c.unsafeLibvirtUris.includes(uri)) return undefined;
  return `${problem}: refused, nothing was connected (to allow exactly this URI, list it under unsafeLibvirtUris in fleet.yaml)`;
}

const safeFleetUri: FleetRule = (c) => {
  const problem = unsafeUri(c.libvirtUri, c);
  return problem ? [{ path: 'libvirtUri', message: problem }] : [];
};

const hostUris: FleetRule = (c) => {
  const problems: RuleProblem[] = [];
  const seen = new Map<string, string>();
  for (const [name, h] of Object.entries(c.hosts)) {
    const problem = unsafeUri(h.uri, c);
    if (problem) problems.push({ path: `hosts.${name}.uri`, message: problem });
    const other = seen.get(h.uri);
    if (other !== undefined)
      problems.push({ path: `hosts.${name}.uri`, message: `host ${name} has the URI of host ${other}` });
    seen.set(h.uri, name);
  }
  return problems;
};

export const FLEET_RULES: readonly FleetRule[] = [
  rangeOrdered,
  rangesDisjoint,
  reservedUnique,
  safeFleetUri,
  hostUris,
];

const validName: AgentRule = (a, raw) => {
  const problem = agentNameProblem(a.name);
  if (problem)
    return [{ path: raw.name !== undefined ? 'name' : '', message: `${problem} (from ${a.file})` }];
  if (raw.name !== undefined && raw.name !== a.name) {
    return [{ path: 'name', message: `name '${raw.name}' must match the file name '${a.name}.yaml'` }];
  }
  return [];
};

const validUser: AgentRule = (a, raw) => {
  const problem = raw.user !== undefined ? unixUserProblem(a.user) : undefined;
  return problem ? [{ path: 'user', message: problem }] : [];
};

const validMemory: AgentRule = (_a, raw) => {
  if (raw.memory === undefined) return [];
  const m = memoryMiB(raw.memory);
  return 'problem' in m ? [{ path: 'memory', message: m.problem }] : [];
};

const coresMatchVcpus: AgentRule = (a, raw) => {
  if (!a.cores) return [];
  const problems: RuleProblem[] = [];
  if (raw.vcpus !== undefined && a.cores.length !== a.vcpus) {
    problems.push({
      path: 'cores',
      message: `${a.cores.length} core(s) listed for ${a.vcpus} vCPU(s): give one per vCPU`,
    });
  }
  a.cores.forEach((core, i) => {
    if (a.cores?.indexOf(core) !== i)
      problems.push({ path: `cores.${i}`, message: `core ${core} is listed twice` });
  });
  return problems;
};

const coresNotReserved: AgentRule = (a, _raw, c) =>
  (a.cores ?? []).flatMap((core, i) =>
    c.reservedCores.includes(core)
      ? [{ path: `cores.${i}`, message: `core ${core} is reserved for the host (fleet.yaml reservedCores)` }]
      : [],
  );

const portsInRange: AgentRule = (a, _raw, c) => {
  const problems: RuleProblem[] = [];
  if (a.sshPort !== undefined && (a.sshPort < c.sshPorts.start || a.sshPort > c.sshPorts.end)) {
    problems.push({
      path: 'ports.ssh',
      message: `port ${a.sshPort} is outside the fleet's SSH range ${c.sshPorts.start}-${c.sshPorts.end}`,
    });
  }
  if (a.spicePort !== undefined && (a.spicePort < c.spicePorts.start || a.spicePort > c.spicePorts.end)) {
    problems.push({
      path: 'ports.spice',
      message: `port ${a.spicePort} is outside the fleet's SPICE range ${c.spicePorts.start}-${c.spicePorts.end}`,
    });
  }
  return problems;
};

const safeAgentUri: AgentRule = (a, raw, c) => {
  const problem = raw.libvirtUri !== undefined ? unsafeUri(a.libvirtUri, c) : undefined;
  return problem ? [{ path: 'libvirtUri', message: problem }] : [];
};

const knownHost: AgentRule = (_a, raw, c) => {
  if (raw.host === undefined) return [];
  if (raw.libvirtUri !== undefined)
    return [{ path: 'host', message: 'name either host or libvirtUri, not both (a host carries its URI)' }];
  const names = Object.keys(c.hosts);
  return c.hosts[raw.host] === undefined
    ? [
        {
          path: 'host',
          message: `no host '${raw.host}' in fleet.yaml hosts (${names.length > 0 ? `hosts: ${names.join(', ')}` : 'it has none: add a hosts section'})`,
        },
      ]
    : [];
};

const emailKnown: AgentRule = (a) =>
  a.git.email === '' ? [{ path: 'git', message: 'git.email is required unless mail.address is set' }] : [];

// Settings that name a secret only work when the agent gets that secret (agenix recipients follow `secrets`).
const referencedSecretsListed: AgentRule = (a) =>
  (
    [
      ['mail.passwordSecret', a.mail?.passwordSecret],
      ['tailscale.authKeySecret', a.tailscale?.authKeySecret],
    ] as const
  ).flatMap(([path, secret]) =>
    secret !== undefined && !a.secrets.includes(secret)
      ? [{ path, message: `secret '${secret}' is not in this agent's secrets list` }]
      : [],
  );

const secretsUnique: AgentRule = (a) =>
  a.secrets.flatMap((s, i) =>
    a.secrets.indexOf(s) < i ? [{ path: `secrets.${i}`, message: `secret '${s}' is listed twice` }] : [],
  );

export const AGENT_RULES: readonly AgentRule[] = [
  validName,
  validUser,
  validMemory,
  coresMatchVcpus,
  coresNotReserved,
  portsInRange,
  safeAgentUri,
  knownHost,
  emailKnown,
  referencedSecretsListed,
  secretsUnique,
  shareProblems,
];

/** Explicit values two agents on one host cannot both have; the later file gets the error. */
export function crossAgentProblems(agents: readonly AgentSpec[]): AgentProblem[] {
  const problems: AgentProblem[] = [];
  const seen = new Map<string, AgentSpec>();
  const claim = (key: string, a: AgentSpec, path: string, what: string, shared = false): void => {
    const other = seen.get(key);
    if (other === a) return; // within one agent, per-agent rules already spoke
    if (other && !(shared && other.shareCores)) {
      problems.push({
        file: a.file,
        path,
        message: `${what} is also claimed by agent ${other.name} (${other.file})`,
      });
    } else if (!other) {
      seen.set(key, a);
    }
  };
  for (const a of agents) {
    claim(`name ${a.name}`, a, 'name', `name '${a.name}'`);
    const host = a.libvirtUri;
    if (a.sshPort !== undefined) claim(`${host} port ${a.sshPort}`, a, 'ports.ssh', `port ${a.sshPort}`);
    if (a.spicePort !== undefined)
      claim(`${host} port ${a.spicePort}`, a, 'ports.spice', `port ${a.spicePort}`);
    (a.cores ?? []).forEach((core, i) => {
      claim(`${host} core ${core}`, a, `cores.${i}`, `core ${core}`, a.shareCores);
    });
  }
  return problems;
}
