import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync as writeFileAtomic } from '@agentfleet/atomic-file';
import {
  allocate,
  coreSpreadWarnings,
  domainName,
  type Fleet,
  fleetUris,
  type HostSnapshot,
  type Ledger,
  type ProgressEvent,
  type ProgressSink,
  type Provisioner,
  placeAgents,
  recordedPlacements,
  renderLedger,
  reservedCoresOn,
} from '@agentfleet/core';
import {
  acquireLock,
  agentPasstSocket,
  committedHostKey,
  type EngineDeps,
  ensureFleetId,
  FileHostKeyStore,
  type FleetRun,
  findOrphans,
  JsonStateStore,
  LocalAgentFiles,
  listensOnLoopback,
  lockFile,
  PasstNetworks,
  passtConfined,
  passtSshPort,
  removeStaleTemps,
  securePrivateDir,
  stateFile,
  tailFile,
  tcpListeners,
} from '@agentfleet/engine';
import { Connections } from './connections.js';
import { type AppContext, warn } from './context.js';
import { noAgentNamed, ValidationError } from './errors.js';
import { expandPath, LEDGER_FILE, readFleet, readLedger } from './fleet-files.js';
import { HostDisks } from './host-disks.js';
import { hostSnapshotWithDomains, isLocalUri, withListenerHolders } from './host-snapshot.js';
import { regenerateAgentsJson } from './nix-data.js';
import { shareDirs } from './share-dirs.js';

export { Connections };

/** The fleet repo's directories fleet writes atomically: ledger, agents.json, rekeyed secrets, committed host keys. */
const REPO_WRITE_DIRS = ['agents', 'hosts', 'secrets', 'secrets/hosts'];

/**
 * What a front-end does while a run holds the lock (the CLI: Ctrl-C handling that releases the
 * lock and says how to resume). Made with the function that lets go of what the run holds.
 */
export interface RunGuard {
  /** Sees every progress event of the run (e.g. to say what finished when stopped). */
  record(e: ProgressEvent): void;
  /** Runs first on a stop, e.g. stopping the progress bars so they draw nothing more. */
  atStop(fn: () => void): void;
  /** The run ended by itself. */
  dispose(): void;
}

export interface Runtime {
  fleet: Fleet;
  run: FleetRun;
  connections: Connections;
  stateDir: string;
  /** The front-end's guard of a run that holds the lock (absent for read-only commands). */
  interrupts?: RunGuard;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  names: string[];
  /** Write a changed ledger (mutating commands); `plan` allocates in memory only. */
  writeLedger: boolean;
  /** Take the state dir's lock, naming this command as the holder. */
  lock?: string;
  /** Regenerate hosts/agents.json from the YAML first (commands that upload the flake). */
  syncAgentsJson?: boolean;
  /** `destroy` may name an orphan: an undeclared agent whose domain we defined is still there. */
  allowOrphans?: boolean;
  /**
   * The command may start the named agents (every agent when none is named): their recorded ports are checked
   * against what listens on the host now. Other commands, and other agents, ignore a process on a recorded port.
   */
  startsAgents?: boolean;
  /** Refuse share sources that are missing or must never be shared (commands that define domains). */
  checkShares?: boolean;
  /** With `lock`: made once the lock is wanted, given what releases the lock and connections. */
  guard?: (release: () => Promise<void>) => RunGuard;
}

/** Reads the fleet, allocates new agents against the live hosts, takes the lock if asked. */
export async function openRuntime(ctx: AppContext, opts: RuntimeOptions): Promise<Runtime> {
  const declared = readFleet(ctx.dir);
  const undeclared = opts.names.filter((n) => !declared.agents.some((a) => a.name === n));
  const unknownError = (unknown: string[]) => noAgentNamed(unknown, declared);
  if (undeclared.length > 0 && !opts.allowOrphans) throw unknownError(undeclared);
  const shares = shareDirs(ctx.dir, declared);
  if (opts.checkShares && shares.diagnostics.length > 0) throw new ValidationError(shares.diagnostics);
  const stateDir = expandPath(ctx.dir, declared.config.stateDir);
  const connections = new Connections();
  let release = async () => {};
  const interrupts =
    opts.lock === undefined
      ? undefined
      : opts.guard?.(async () => {
          await connections.closeAll();
          await release();
        });
  try {
    if (opts.lock) {
      // Every run that may write the state dir first makes it private (and tightens an old one).
      await securePrivateDir(stateDir);
      release = await acquireLock(lockFile(stateDir), opts.lock);
      // Under the lock no other fleet writes here: temps of a killed run are leftovers. So are those it left in
      // the fleet repo (a rekey or a ledger write killed between write and rename), which git would show.
      for (const d of [stateDir, ...REPO_WRITE_DIRS.map((r) => join(ctx.dir, r))]) await removeStaleTemps(d);
    }
    const starting = opts.startsAgents ? (opts.names.length > 0 ? opts.names : 'all') : [];
    const ledger = await allocateLedger(ctx, declared, connections, opts.writeLedger, starting);
    const fleet = recordedPlacements(declared, ledger);
    if (opts.syncAgentsJson) regenerateAgentsJson(ctx, fleet);
    const run: FleetRun = {
      fleet,
      ledger,
      fleetDir: ctx.dir,
      stateDir,
      baseImage: expandPath(ctx.dir, fleet.config.baseImage),
      identityFile: expandPath(ctx.dir, fleet.config.ssh.identityFile),
      names: opts.names,
      shareDirs: shares.dirs,
    };
    if (undeclared.length > 0) {
      const orphans = new Set((await findOrphans(run, connections.connect)).map((o) => o.agent));
      const unknown = undeclared.filter((n) => !orphans.has(n));
      if (unknown.length > 0) throw unknownError(unknown);
    }
    return {
      fleet,
      run,
      connections,
      stateDir,
      ...(interrupts && { interrupts }),
      close: async () => {
        interrupts?.dispose();
        await connections.closeAll();
        await release();
      },
    };
  } catch (err) {
    interrupts?.dispose();
    await connections.closeAll();
    await release();
    throw err;
  }
}

/**
 * The next ledger for `fleet`, allocated against what the local hosts hold right now;
 * `write` records it in agents/ledger.yaml when it changed (atomically). A process listening on an agent's recorded
 * port is a conflict only for the agents in `starting` (those the command may start): a squatter on one agent's port
 * must not stop `down`, `destroy`, `ssh` or `up` of another, nor a command that starts nothing.
 */
export async function allocateLedger(
  ctx: AppContext,
  fleet: Fleet,
  connections: Connections,
  write: boolean,
  starting: readonly string[] | 'all',
): Promise<Ledger> {
  // The fleet's id is made with its first ledger; plan (which writes nothing) uses a fresh one,
  // which no domain carries yet: exactly right for a fleet that has defined nothing.
  const prev = ensureFleetId(readLedger(ctx.dir));
  const uris = fleetUris(
    fleet.config,
    fleet.agents.map((a) => a.libvirtUri),
  );
  const local = uris.some(isLocalUri);
  const listeners = local ? await tcpListeners() : [];
  const owners = local ? await passtOwners(ctx, fleet) : new Map<number, string>();
  const hosts: HostSnapshot[] = await Promise.all(
    uris.map(async (uri) => {
      const hv = await connections.connect(uri);
      const here = isLocalUri(uri)
        ? listeners
        : (await connections.hosts.listeners(uri)).map((port) => ({ port }));
      const notStarted = recordedPortsOfOthers(prev, fleet, uri, starting);
      return hostSnapshotWithDomains(
        uri,
        hv,
        here.filter((l) => !notStarted.has(l.port)),
        prev.fleetId as string,
        isLocalUri(uri) ? owners : new Map(),
      );
    }),
  );
  // Agents fleet places go where they fit first; the ledger then records them under their host's URI.
  const placed = placeAgents(prev, fleet, hosts);
  if (!placed.ok) throw new ValidationError(placed.diagnostics);
  const result = allocate(prev, placed.value, hosts);
  if (!result.ok) {
    // Only on failure: name the processes holding the ports in the way (reads /proc/*/fd).
    const named = allocate(prev, placed.value, await withListenerHolders(hosts, listeners));
    throw new ValidationError(named.ok ? result.diagnostics : named.diagnostics);
  }
  // Said by every command that allocates (plan, up, allocate, add): a stacked core slows every boot on it.
  for (const h of hosts)
    for (const w of coreSpreadWarnings(result.value, h, reservedCoresOn(fleet.config, h.uri), LEDGER_FILE))
      warn(ctx, w);
  if (write) writeLedger(ctx, result.value);
  return result.value;
}

/** The ports recorded or declared on `uri` for agents not in `starting`: what listens there is not this command's business. */
function recordedPortsOfOthers(
  ledger: Ledger,
  fleet: Fleet,
  uri: string,
  starting: readonly string[] | 'all',
): Set<number> {
  const ports = new Set<number>();
  if (starting === 'all') return ports;
  const others = (name: string) => !starting.includes(name);
  for (const [name, a] of Object.entries(ledger.hosts[uri] ?? {}))
    if (others(name)) for (const p of [a.sshPort, a.spicePort]) ports.add(p);
  for (const a of fleet.agents)
    if (a.libvirtUri === uri && others(a.name))
      for (const p of [a.sshPort, a.spicePort]) if (p !== undefined) ports.add(p);
  return ports;
}

/** The SSH forwards this fleet's own passts hold, so an agent's own listener is no conflict. */
async function passtOwners(ctx: AppContext, fleet: Fleet): Promise<Map<number, string>> {
  const stateDir = expandPath(ctx.dir, fleet.config.stateDir);
  const owners = new Map<number, string>();
  for (const a of fleet.agents) {
    const port = await passtSshPort(agentPasstSocket(stateDir, a.name));
    if (port !== undefined) owners.set(port, domainName(a.name));
  }
  return owners;
}

export function writeLedger(ctx: AppContext, ledger: Ledger): void {
  const path = join(ctx.dir, LEDGER_FILE);
  const text = renderLedger(ledger);
  const before = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (text === before) return;
  writeFileAtomic(path, text);
  ctx.log.info({ file: LEDGER_FILE }, 'ledger updated');
}

export function engineDeps(
  ctx: AppContext,
  rt: Runtime,
  progress: ProgressSink,
  provisioner?: Provisioner,
): EngineDeps {
  return {
    connect: rt.connections.connect,
    disks: new HostDisks(rt.connections, () => rt.run.ledger.fleetId),
    state: new JsonStateStore(stateFile(rt.stateDir)),
    // ssh2 loads when an agent first waits for SSH: `plan` and `status` never load it.
    readiness: {
      wait: async (t, onStage) =>
        (await import('./ssh-readiness.js')).sshReadiness(rt.connections.hosts).wait(t, onStage),
    },
    host: {
      listensOnLoopback: async (port, uri) =>
        isLocalUri(uri)
          ? listensOnLoopback(port)
          : (await rt.connections.hosts.listeners(uri)).includes(port),
      consoleTail: tailFile,
    },
    networks: new PasstNetworks({ confine: passtConfined(rt.fleet.config.networkFirewall) }),
    hostKeys: new FileHostKeyStore(rt.stateDir),
    files: new LocalAgentFiles(),
    ...(provisioner && { provisioner }),
    progress,
    log: ctx.log,
    committedHostKey: (agent) => committedHostKey(ctx.dir, agent),
  };
}
