import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { writeFileAtomicSync as writeFileAtomic } from '@agentfleet/atomic-file';
import {
  type Allocated,
  allocateWithHeld,
  coreSpreadWarnings,
  domainName,
  type Fleet,
  fleetUris,
  type GuestNetworks,
  type HeldResource,
  type HostSnapshot,
  type Ledger,
  type ProgressEvent,
  type ProgressSink,
  type Provisioner,
  placeAgents,
  recordedPlacements,
  renderLedger,
  reservedCoresOn,
  sortDiagnostics,
} from '@agentfleet/core';
import {
  acquireLock,
  agentPasstSocket,
  agentPasstSocketOn,
  committedHostKey,
  type EngineDeps,
  ensureFleetId,
  FileHostKeyStore,
  type FleetRun,
  findOrphans,
  HostNetworks,
  hostKeysDir,
  JsonStateStore,
  LocalAgentFiles,
  listensOnLoopback,
  lockFile,
  PasstNetworks,
  passtConfined,
  passtSshPorts,
  RemotePasstNetworks,
  remotePasstSshPorts,
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
   * The command may start the named agents (every agent when none is named): their recorded ports and cores are
   * checked against what holds them on the host now (processes, domains not this fleet's). Other commands, and
   * other agents, ignore them. A held one refuses the command, unless `heldBlocksAgent`.
   */
  startsAgents?: boolean;
  /** With `startsAgents`: an agent whose port or core is held is only blocked (`run.held`), the others go on (up, plan). */
  heldBlocksAgent?: boolean;
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
      // Under the lock no other fleet writes here: temps of a killed run are leftovers (a host key's among them).
      // So are those it left in the fleet repo (a rekey or a ledger write killed between write and rename), which
      // git would show.
      const dirs = [stateDir, hostKeysDir(stateDir), ...REPO_WRITE_DIRS.map((r) => join(ctx.dir, r))];
      for (const d of dirs) await removeStaleTemps(d);
    }
    const starting = opts.startsAgents ? (opts.names.length > 0 ? opts.names : 'all') : [];
    const { ledger, held } = await allocateLedger(ctx, declared, connections, opts.writeLedger, starting, {
      heldBlocksAgent: opts.heldBlocksAgent === true,
    });
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
      ...(held.length > 0 && { held: heldReasons(held) }),
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
 * `write` records it in agents/ledger.yaml when it changed (atomically). A port or core of an agent in `starting`
 * (those the command may start) that something outside the fleet holds is an error naming the holder, or with
 * `heldBlocksAgent` returned in `held` (that agent alone is blocked); for the other agents it does not matter: a
 * squatter on one agent's port must not stop `down`, `destroy`, `ssh` or `up` of another, nor a command that
 * starts nothing.
 */
export async function allocateLedger(
  ctx: AppContext,
  fleet: Fleet,
  connections: Connections,
  write: boolean,
  starting: readonly string[] | 'all',
  opts: { heldBlocksAgent?: boolean } = {},
): Promise<Allocated> {
  // The fleet's id is made with its first ledger; plan (which writes nothing) uses a fresh one,
  // which no domain carries yet: exactly right for a fleet that has defined nothing.
  const recorded = readLedger(ctx.dir);
  const prev = ensureFleetId(recorded);
  const uris = fleetUris(
    fleet.config,
    fleet.agents.map((a) => a.libvirtUri),
  );
  const local = uris.some(isLocalUri);
  const listeners = local ? await tcpListeners() : [];
  const owners = local ? passtOwners(ctx, fleet) : new Map<number, string>();
  const hosts: HostSnapshot[] = await Promise.all(
    uris.map(async (uri) => {
      const hv = await connections.connect(uri);
      const here = isLocalUri(uri)
        ? listeners
        : (await connections.hosts.listeners(uri)).map((port) => ({ port }));
      return hostSnapshotWithDomains(
        uri,
        hv,
        here,
        prev.fleetId as string,
        isLocalUri(uri) ? owners : await remotePasstOwners(ctx, connections, fleet, prev, uri),
      );
    }),
  );
  // Agents fleet places go where they fit first; the ledger then records them under their host's URI.
  const placed = placeAgents(prev, fleet, hosts);
  if (!placed.ok) throw new ValidationError(placed.diagnostics);
  const startingSet = starting === 'all' ? 'all' : new Set(starting);
  let result = allocateWithHeld(prev, placed.value, hosts, startingSet);
  // Only when something is in the way: name the processes holding the ports (reads /proc/*/fd).
  if (!result.ok || result.value.held.length > 0)
    result = allocateWithHeld(prev, placed.value, await withListenerHolders(hosts, listeners), startingSet);
  if (!result.ok) throw new ValidationError(result.diagnostics);
  const { held } = result.value;
  if (held.length > 0 && !opts.heldBlocksAgent)
    throw new ValidationError(sortDiagnostics(held.map((h) => h.diagnostic)));
  // Said by every command that allocates (plan, up, allocate, add): a stacked core slows every boot on it.
  for (const h of hosts)
    for (const w of coreSpreadWarnings(
      result.value.ledger,
      h,
      reservedCoresOn(fleet.config, h.uri),
      LEDGER_FILE,
    ))
      warn(ctx, w);
  // Rendering the file loads the yaml library (~40 ms before the first domain starts): not for an unchanged ledger.
  if (write && !isDeepStrictEqual(entriesOf(result.value.ledger), entriesOf(recorded)))
    writeLedger(ctx, result.value.ledger);
  return result.value;
}

/** A ledger without where it was read from. */
const entriesOf = ({ source: _, ...entries }: Ledger) => entries;

/** Each held agent's reasons, as `up` and `plan` show them for the agent they block. */
function heldReasons(held: readonly HeldResource[]): Record<string, string[]> {
  const reasons: Record<string, string[]> = {};
  for (const h of held) reasons[h.agent] = [...(reasons[h.agent] ?? []), h.diagnostic.message];
  return reasons;
}

/** The SSH forwards this fleet's own passts hold, so an agent's own listener is no conflict. */
function passtOwners(ctx: AppContext, fleet: Fleet): Map<number, string> {
  const stateDir = expandPath(ctx.dir, fleet.config.stateDir);
  const sockets = new Map(
    fleet.agents.map((a) => [agentPasstSocket(stateDir, a.name), domainName(a.name)] as const),
  );
  const owners = new Map<number, string>();
  for (const [socket, port] of passtSshPorts([...sockets.keys()]))
    owners.set(port, sockets.get(socket) as string);
  return owners;
}

/** Likewise on a remote host: the forwards of this fleet's passts there (recorded or declared on it). */
async function remotePasstOwners(
  ctx: AppContext,
  connections: Connections,
  fleet: Fleet,
  ledger: Ledger,
  uri: string,
): Promise<Map<number, string>> {
  const stateDir = expandPath(ctx.dir, fleet.config.stateDir);
  const names = new Set([
    ...Object.keys(ledger.hosts[uri] ?? {}),
    ...fleet.agents.filter((a) => a.libvirtUri === uri).map((a) => a.name),
  ]);
  const sockets = new Map(
    [...names].map((n) => [agentPasstSocketOn(stateDir, ledger.fleetId, uri, n), domainName(n)] as const),
  );
  const owners = new Map<number, string>();
  for (const [socket, port] of await remotePasstSshPorts(connections.hosts, uri, [...sockets.keys()]))
    owners.set(port, sockets.get(socket) as string);
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

/** Pre-generated host keys in the state dir, with the copies QEMU reads on remote hosts (put there over SSH). */
export const hostKeyStore = (rt: Runtime) =>
  new FileHostKeyStore(rt.stateDir, { fleetId: rt.run.ledger.fleetId, files: rt.connections.hosts });

/** passt per isolated agent: on this machine for local agents, on its libvirt host (over SSH) for a remote one. */
export function guestNetworks(rt: Runtime): GuestNetworks {
  const firewall = rt.fleet.config.networkFirewall;
  return new HostNetworks(
    new PasstNetworks({ confine: passtConfined(firewall) }),
    new RemotePasstNetworks({ host: rt.connections.hosts, firewall }),
  );
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
    networks: guestNetworks(rt),
    hostKeys: hostKeyStore(rt),
    files: new LocalAgentFiles(),
    ...(provisioner && { provisioner }),
    progress,
    log: ctx.log,
    committedHostKey: (agent) => committedHostKey(ctx.dir, agent),
  };
}
