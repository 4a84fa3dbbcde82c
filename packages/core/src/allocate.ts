import { type Diagnostic, fail, ok, type Result, sortDiagnostics } from './diagnostics.js';
import { missingCoreProblem } from './host-fit.js';
import type { HostSnapshot } from './host-snapshot.js';
import { reservedCoresOn } from './hosts.js';
import { type Allocation, emptyLedger, type Ledger } from './ledger.js';
import { pickMac } from './mac.js';
import type { AgentSpec, Fleet } from './model.js';
import { createLocator } from './yaml-source.js';

type PortKind = 'ssh' | 'spice';
const PORT_FIELD = { ssh: 'sshPort', spice: 'spicePort' } as const;
const RANGE_FIELD = { ssh: 'sshPorts', spice: 'spicePorts' } as const;
const LABEL = { ssh: 'SSH', spice: 'SPICE' } as const;

interface Draft {
  agent: AgentSpec;
  sshPort?: number;
  spicePort?: number;
  cores: number[];
  mac?: string;
}

/**
 * A recorded or explicit port or core of an agent that something outside this fleet holds right now: a process
 * listening on the host, or a domain that is not this fleet's (hand-made, another fleet's). The ledger keeps the
 * resource (resources never move), but the agent cannot start until it is free.
 */
export interface HeldResource {
  agent: string;
  /** Names the holder and the remedy; located at the YAML field or the ledger entry. */
  diagnostic: Diagnostic;
}

export interface Allocated {
  ledger: Ledger;
  /** Held resources of the agents that may start (see allocateWithHeld). */
  held: HeldResource[];
}

/**
 * Next ledger from the previous one, the declarations and what is taken on each host, for a command that may start
 * every agent: a recorded or explicit resource something else holds now is an error naming both parties.
 */
export function allocate(
  prev: Ledger | undefined,
  fleet: Fleet,
  hosts: HostSnapshot | readonly HostSnapshot[],
): Result<Ledger> {
  const r = allocateWithHeld(prev, fleet, hosts, 'all');
  if (!r.ok) return r;
  if (r.value.held.length > 0) return fail(sortDiagnostics(r.value.held.map((h) => h.diagnostic)));
  return ok(r.value.ledger);
}

/**
 * Next ledger from the previous one, the declarations and what is taken on each host.
 *
 * Recorded and explicit resources are placed first and never move; one another agent of this fleet also claims is
 * an error naming both. One that something outside the fleet holds now (HeldResource) stays the agent's and is
 * reported in `held` for the agents in `starting` only: that agent alone cannot start, and stopping, destroying or
 * reaching an agent needs none of its ports free. Only then do agents without an entry get the lowest free ports
 * and cores. Agents on a URI without a snapshot keep their recorded entries; new agents there cannot be allocated.
 * Agents removed from the fleet drop out of the ledger, freeing their resources. On failure the diagnostics hold
 * the errors and the starting agents' held resources.
 */
export function allocateWithHeld(
  prev: Ledger | undefined,
  fleet: Fleet,
  hosts: HostSnapshot | readonly HostSnapshot[],
  starting: ReadonlySet<string> | 'all',
): Result<Allocated> {
  const previous = prev ?? emptyLedger();
  const snapshots = new Map((Array.isArray(hosts) ? hosts : [hosts]).map((h: HostSnapshot) => [h.uri, h]));
  const diagnostics: Diagnostic[] = [];
  const where = locator(fleet, previous);
  const macs = new Map<string, string>();
  const next: Ledger = {
    version: 1,
    ...(previous.fleetId !== undefined && { fleetId: previous.fleetId }),
    hosts: {},
  };

  const held: HeldResource[] = [];
  const starts = (agent: string) => starting === 'all' || starting.has(agent);
  const uris = [...new Set(fleet.agents.map((a) => a.libvirtUri))].sort();
  const drafts = new Map<string, Draft[]>();
  // MACs first, across hosts: recorded ones are kept, so new ones must avoid all of them.
  for (const uri of uris) {
    const list = fleet.agents
      .filter((a) => a.libvirtUri === uri)
      .map((agent): Draft => ({ agent, cores: [] }));
    drafts.set(uri, list);
    for (const d of list) {
      const mac = previous.hosts[uri]?.[d.agent.name]?.mac;
      if (!mac) continue;
      const holder = macs.get(mac);
      if (holder) {
        diagnostics.push(
          where(d.agent, 'mac', `MAC ${mac} of agent ${d.agent.name} is also recorded for agent ${holder}`),
        );
      } else {
        macs.set(mac, d.agent.name);
        d.mac = mac;
      }
    }
  }

  for (const uri of uris) {
    const list = drafts.get(uri) ?? [];
    const host = new HostClaims(uri, snapshots.get(uri), new Set(list.map((d) => d.agent.name)));
    const problems = placeRecorded(list, previous, host, fleet);
    problems.push(...placeNew(list, host, fleet));
    for (const d of list) {
      if (!d.mac) {
        d.mac = pickMac(uri, d.agent.name, new Set(macs.keys()));
        macs.set(d.mac, d.agent.name);
      }
    }
    const errors = problems.filter((p) => !p.held);
    const heldHere = problems
      .filter((p) => p.held && starts(p.agent.name))
      .map((p) => ({ agent: p.agent.name, diagnostic: where(p.agent, p.field, p.message) }));
    held.push(...heldHere);
    if (errors.length > 0) {
      diagnostics.push(
        ...errors.map((p) => where(p.agent, p.field, p.message)),
        ...heldHere.map((h) => h.diagnostic),
      );
      continue;
    }
    next.hosts[uri] = Object.fromEntries(
      list.map((d) => {
        // An adopted disk (`fleet import`) stays recorded for as long as the agent does.
        const disk = previous.hosts[uri]?.[d.agent.name]?.disk;
        return [d.agent.name, { ...finished(d), ...(disk !== undefined && { disk }) }];
      }),
    );
  }
  return diagnostics.length > 0 ? fail(sortDiagnostics(diagnostics)) : ok({ ledger: next, held });
}

function finished(d: Draft): Allocation {
  // placeNew either fills every field or reports a problem, and problems stop the ledger.
  return { sshPort: d.sshPort ?? 0, spicePort: d.spicePort ?? 0, cores: d.cores, mac: d.mac ?? '' };
}

/** A problem with one field of one agent; located later (explicit YAML field, or ledger entry). */
interface Problem {
  agent: AgentSpec;
  field: Field;
  message: string;
  /** The resource stays the agent's; something outside the fleet holds it now (see HeldResource). */
  held?: boolean;
}
type Field = PortKind | `cores.${number}` | 'cores' | 'mac';

/** A problem; a held one (with `remedy`) when something outside the fleet holds the resource. */
function problem(agent: AgentSpec, field: Field, message: string, remedy: string | false): Problem {
  return remedy ? { agent, field, held: true, message: `${message}: ${remedy}` } : { agent, field, message };
}

function placeRecorded(list: Draft[], previous: Ledger, host: HostClaims, fleet: Fleet): Problem[] {
  const problems: Problem[] = [];
  for (const d of list) {
    const a = d.agent;
    const rec = previous.hosts[host.uri]?.[a.name];
    for (const kind of ['ssh', 'spice'] as const) {
      const port = a[PORT_FIELD[kind]] ?? rec?.[PORT_FIELD[kind]];
      if (port === undefined) continue;
      const holder = host.portHolder(a.name, port);
      if (holder) {
        const message = `${LABEL[kind]} port ${port} of agent ${a.name} is in use by ${holder.name}`;
        const remedy = `stop it, or give the agent another port (ports.${kind} in ${a.file})`;
        problems.push(problem(a, kind, message, holder.outside && remedy));
        if (!holder.outside) continue;
      }
      host.claimPort(a.name, port);
      d[PORT_FIELD[kind]] = port;
    }
    const cores = (a.cores ?? rec?.cores ?? []).slice(0, a.vcpus);
    cores.forEach((core, i) => {
      const taken = host.coreProblem(a, core, reservedCoresOn(fleet.config, host.uri));
      if (taken) {
        const message = `core ${core} of agent ${a.name} ${taken.why}`;
        const remedy = `stop it, or give the agent other cores (cores in ${a.file}, or shareCores: true)`;
        problems.push(problem(a, `cores.${i}`, message, taken.outside && remedy));
        if (!taken.outside) return;
      }
      host.claimCore(a, core);
      d.cores.push(core);
    });
  }
  return problems;
}

function placeNew(list: Draft[], host: HostClaims, fleet: Fleet): Problem[] {
  const problems: Problem[] = [];
  for (const d of list) {
    const a = d.agent;
    const missing = d.sshPort === undefined || d.spicePort === undefined || d.cores.length < a.vcpus;
    if (!missing) continue;
    if (!host.snapshot) {
      problems.push({
        agent: a,
        field: 'cores',
        message: `cannot allocate agent ${a.name}: no snapshot of host ${host.uri} (is it reachable?)`,
      });
      continue;
    }
    for (const kind of ['ssh', 'spice'] as const) {
      if (d[PORT_FIELD[kind]] !== undefined) continue;
      const range = fleet.config[RANGE_FIELD[kind]];
      const port = host.freePort(a.name, range.start, range.end);
      if (port === undefined) {
        problems.push({
          agent: a,
          field: kind,
          message: `no free ${LABEL[kind]} port for agent ${a.name} in ${range.start}-${range.end} on ${host.uri}`,
        });
      } else {
        host.claimPort(a.name, port);
        d[PORT_FIELD[kind]] = port;
      }
    }
    const need = a.vcpus - d.cores.length;
    if (need <= 0) continue;
    const picked = host.freeCores(a, need, d.cores, reservedCoresOn(fleet.config, host.uri));
    if (picked.length < need) {
      problems.push({
        agent: a,
        field: 'cores',
        message:
          `agent ${a.name} needs ${a.vcpus} exclusive core(s) but host ${host.uri} has ${host.snapshot.cpus} cpu(s): ` +
          `${describeCores(host, reservedCoresOn(fleet.config, host.uri))} (set shareCores: true to share)`,
      });
      continue;
    }
    for (const core of picked) host.claimCore(a, core, true);
    d.cores.push(...picked);
  }
  return problems;
}

function describeCores(host: HostClaims, reserved: readonly number[]): string {
  const parts = [`reserved ${reserved.length > 0 ? reserved.join(',') : 'none'}`];
  for (const [core, holders] of host.coreHolders()) parts.push(`core ${core} used by ${holders.join(', ')}`);
  return parts.join('; ');
}

/** Everything claimed on one host during one allocation run: agents' claims and the snapshot's. */
class HostClaims {
  private readonly agentPorts = new Map<number, string>();
  /** One entry per vCPU pinned to the core; `fresh` when placed in this run (they boot together). */
  private readonly agentCores = new Map<number, { agent: string; exclusive: boolean; fresh: boolean }[]>();
  private readonly foreignPorts = new Map<number, string>();
  private readonly foreignCores = new Map<number, string[]>();
  /** Ports held by this fleet's own running domains: port -> agent name. */
  private readonly ownDomainPorts = new Map<number, { agent: string; domain: string }>();
  private readonly listeners = new Map<number, string | undefined>();

  constructor(
    readonly uri: string,
    readonly snapshot: HostSnapshot | undefined,
    fleetAgents: ReadonlySet<string>,
  ) {
    for (const dom of snapshot?.domains ?? []) {
      const agent = dom.agent;
      if (agent !== undefined && fleetAgents.has(agent)) {
        for (const p of dom.ports) this.ownDomainPorts.set(p, { agent, domain: dom.name });
        continue;
      }
      for (const p of dom.ports) this.foreignPorts.set(p, `domain ${dom.name}`);
      for (const c of dom.cores)
        this.foreignCores.set(c, [...(this.foreignCores.get(c) ?? []), `domain ${dom.name}`]);
    }
    for (const l of snapshot?.listeningPorts ?? []) this.listeners.set(l.port, l.owner);
  }

  /**
   * Who, other than `agent` itself, holds `port` (`outside`: not this fleet's: a foreign domain or a process on the
   * host); undefined when it is free for `agent`.
   */
  portHolder(agent: string, port: number): { name: string; outside: boolean } | undefined {
    const other = this.agentPorts.get(port);
    if (other !== undefined && other !== agent) return { name: `agent ${other}`, outside: false };
    const ownDomain = this.ownDomainPorts.get(port);
    if (ownDomain?.agent === agent) return undefined;
    if (ownDomain !== undefined)
      return {
        name: `domain ${ownDomain.domain} (agent ${ownDomain.agent}'s running domain)`,
        outside: false,
      };
    const foreign = this.foreignPorts.get(port);
    if (foreign) return { name: foreign, outside: true };
    if (this.listeners.has(port)) {
      const owner = this.listeners.get(port);
      if (owner === `agent-${agent}` || owner === `domain agent-${agent}`) return undefined;
      return {
        name: owner ? `${owner} (listening on the host)` : 'a process listening on the host',
        outside: true,
      };
    }
    return undefined;
  }

  claimPort(agent: string, port: number): void {
    this.agentPorts.set(port, agent);
  }

  freePort(agent: string, start: number, end: number): number | undefined {
    for (let p = start; p <= end; p++) if (this.portHolder(agent, p) === undefined) return p;
    return undefined;
  }

  /**
   * Why `agent` may not pin `core`, phrased to follow "core N of agent X" (`outside`: a domain not this fleet's
   * pins it).
   */
  coreProblem(
    agent: AgentSpec,
    core: number,
    reserved: readonly number[],
  ): { why: string; outside: boolean } | undefined {
    if (reserved.includes(core))
      return { why: 'is reserved for the host (fleet.yaml reservedCores)', outside: false };
    const missing = this.snapshot && missingCoreProblem(core, this.uri, this.snapshot.cpus);
    if (missing) return { why: missing, outside: false };
    const users = (this.agentCores.get(core) ?? []).filter((u) => u.agent !== agent.name);
    const blocking = agent.shareCores ? users.filter((u) => u.exclusive) : users;
    if (blocking[0]) return { why: `is also pinned by agent ${blocking[0].agent}`, outside: false };
    const foreign = agent.shareCores ? undefined : this.foreignCores.get(core)?.[0];
    return foreign ? { why: `is also pinned by ${foreign}`, outside: true } : undefined;
  }

  claimCore(agent: AgentSpec, core: number, fresh = false): void {
    this.agentCores.set(core, [
      ...(this.agentCores.get(core) ?? []),
      { agent: agent.name, exclusive: !agent.shareCores, fresh },
    ]);
  }

  /**
   * Up to `need` cores for `agent`. Exclusive agents get the lowest wholly free cores. Sharing agents get one core
   * per vCPU, each time the one with (in this order) the fewest of the agent's own vCPUs (two vCPUs of one TCG guest
   * on one core only take turns), the fewest vCPUs placed in this run (new agents boot together: stacking them on
   * one core while another has none halves their speed, however idle the older agents there are), the fewest vCPUs
   * pinned in all (foreign domains count one per core), the lowest number.
   */
  freeCores(agent: AgentSpec, need: number, have: readonly number[], reserved: readonly number[]): number[] {
    const cpus = this.snapshot?.cpus ?? 0;
    const usable = Array.from({ length: cpus }, (_, c) => c).filter(
      (c) => this.coreProblem(agent, c, reserved) === undefined,
    );
    if (!agent.shareCores) {
      return usable
        .filter((c) => !have.includes(c) && !this.agentCores.has(c) && !this.foreignCores.has(c))
        .slice(0, need);
    }
    const mine = [...have];
    const picked: number[] = [];
    const candidates = usable.length > 0 ? usable : [...new Set(have)];
    for (let i = 0; i < need && candidates.length > 0; i++) {
      const key = (c: number) => {
        const users = this.agentCores.get(c) ?? [];
        return [
          mine.filter((m) => m === c).length,
          users.filter((u) => u.fresh).length + picked.filter((p) => p === c).length,
          users.length + picked.filter((p) => p === c).length + (this.foreignCores.get(c)?.length ?? 0),
          c,
        ];
      };
      const best = candidates.reduce((x, y) => (compareKeys(key(y), key(x)) < 0 ? y : x));
      picked.push(best);
      mine.push(best);
    }
    return picked;
  }

  coreHolders(): [number, string[]][] {
    const all = new Map<number, string[]>();
    for (const [c, users] of this.agentCores)
      all.set(
        c,
        users.map((u) => `agent ${u.agent}`),
      );
    for (const [c, doms] of this.foreignCores) all.set(c, [...(all.get(c) ?? []), ...doms]);
    return [...all].sort((x, y) => x[0] - y[0]);
  }
}

function compareKeys(x: readonly number[], y: readonly number[]): number {
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return 0;
}

/** Point a problem at the explicit YAML field when there is one, else at the recorded ledger entry. */
function locator(fleet: Fleet, ledger: Ledger) {
  const locate = createLocator();
  return (agent: AgentSpec, field: Field, message: string): Diagnostic => {
    const yamlPath =
      field === 'ssh' ? 'ports.ssh' : field === 'spice' ? 'ports.spice' : field === 'mac' ? '' : field;
    const explicit =
      (field === 'ssh' && agent.sshPort !== undefined) ||
      (field === 'spice' && agent.spicePort !== undefined) ||
      (field.startsWith('cores') && agent.cores !== undefined);
    const recorded = ledger.hosts[agent.libvirtUri]?.[agent.name];
    if (!explicit && recorded && ledger.source && field !== 'cores') {
      const leaf = field === 'ssh' || field === 'spice' ? PORT_FIELD[field] : field;
      const path = `hosts.${agent.libvirtUri}.${agent.name}.${leaf}`;
      const { file, text } = ledger.source;
      return { file, ...locate(file, text, path), path, message };
    }
    const path = field === 'cores' ? 'vcpus' : yamlPath;
    return { file: agent.file, ...locate(agent.file, fleet.texts[agent.file], path), path, message };
  };
}
