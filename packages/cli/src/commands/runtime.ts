import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  allocate,
  coreSpreadWarnings,
  type Fleet,
  type HostSnapshot,
  type Ledger,
  type ProgressSink,
  type Provisioner,
  renderLedger,
} from '@agentfleet/core';
import {
  acquireLock,
  type EngineDeps,
  type FleetRun,
  findOrphans,
  JsonStateStore,
  LocalDisks,
  listensOnLoopback,
  lockFile,
  stateFile,
  tailFile,
  tcpListeners,
} from '@agentfleet/engine';
import { writeFileAtomic } from '../atomic-write.js';
import type { CliContext } from '../context.js';
import { UsageError, ValidationError } from '../errors.js';
import { expandPath, LEDGER_FILE, readFleet, readLedger } from '../fleet-files.js';
import { hostSnapshotWithDomains, isLocalUri } from '../host-snapshot.js';
import { Connections } from './connections.js';
import { regenerateAgentsJson } from './nix-data.js';

export { Connections };

export interface Runtime {
  fleet: Fleet;
  run: FleetRun;
  connections: Connections;
  stateDir: string;
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
}

/** Reads the fleet, allocates new agents against the live hosts, takes the lock if asked. */
export async function openRuntime(ctx: CliContext, opts: RuntimeOptions): Promise<Runtime> {
  const fleet = readFleet(ctx.dir);
  const undeclared = opts.names.filter((n) => !fleet.agents.some((a) => a.name === n));
  const unknownError = (unknown: string[]) =>
    new UsageError(
      `no agent named ${unknown.map((n) => `'${n}'`).join(', ')} (agents: ${fleet.agents.map((a) => a.name).join(', ') || 'none'})`,
    );
  if (undeclared.length > 0 && !opts.allowOrphans) throw unknownError(undeclared);
  const stateDir = expandPath(ctx.dir, fleet.config.stateDir);
  const connections = new Connections();
  let release = async () => {};
  try {
    if (opts.lock) release = await acquireLock(lockFile(stateDir), opts.lock);
    const ledger = await allocateLedger(ctx, fleet, connections, opts.writeLedger);
    if (opts.syncAgentsJson) regenerateAgentsJson(ctx, fleet);
    const run: FleetRun = {
      fleet,
      ledger,
      stateDir,
      baseImage: expandPath(ctx.dir, fleet.config.baseImage),
      identityFile: expandPath(ctx.dir, fleet.config.ssh.identityFile),
      names: opts.names,
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
      close: async () => {
        await connections.closeAll();
        await release();
      },
    };
  } catch (err) {
    await connections.closeAll();
    await release();
    throw err;
  }
}

/**
 * The next ledger for `fleet`, allocated against what the local hosts hold right now;
 * `write` records it in agents/ledger.yaml when it changed (atomically).
 */
export async function allocateLedger(
  ctx: CliContext,
  fleet: Fleet,
  connections: Connections,
  write: boolean,
): Promise<Ledger> {
  const prev = readLedger(ctx.dir);
  const uris = [...new Set(fleet.agents.map((a) => a.libvirtUri))].filter(isLocalUri);
  const listeners = uris.length > 0 ? await tcpListeners() : [];
  const hosts: HostSnapshot[] = await Promise.all(
    uris.map(async (uri) => hostSnapshotWithDomains(uri, await connections.connect(uri), listeners)),
  );
  const result = allocate(prev, fleet, hosts);
  if (!result.ok) throw new ValidationError(result.diagnostics);
  // Said by every command that allocates (plan, up, allocate, add): a stacked core slows every boot on it.
  for (const h of hosts)
    for (const w of coreSpreadWarnings(result.value, h, fleet.config.reservedCores, LEDGER_FILE))
      process.stderr.write(`warning: ${w}\n`);
  if (write) writeLedger(ctx, result.value);
  return result.value;
}

export function writeLedger(ctx: CliContext, ledger: Ledger): void {
  const path = join(ctx.dir, LEDGER_FILE);
  const text = renderLedger(ledger);
  const before = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (text === before) return;
  writeFileAtomic(path, text);
  ctx.log.info({ file: LEDGER_FILE }, 'ledger updated');
}

export function engineDeps(
  ctx: CliContext,
  rt: Runtime,
  progress: ProgressSink,
  provisioner?: Provisioner,
): EngineDeps {
  return {
    connect: rt.connections.connect,
    disks: new LocalDisks(),
    state: new JsonStateStore(stateFile(rt.stateDir)),
    // ssh2 loads when an agent first waits for SSH: `plan` and `status` never load it.
    readiness: {
      wait: async (t, onStage) => (await import('./adapters.js')).sshReadiness().wait(t, onStage),
    },
    host: { listensOnLoopback, consoleTail: tailFile },
    ...(provisioner && { provisioner }),
    progress,
    log: ctx.log,
  };
}
