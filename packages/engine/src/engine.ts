import {
  type AgentAction,
  type BaseIdentity,
  computePlan,
  type DesiredAgent,
  type Disks,
  type HostProbe,
  type Hypervisor,
  isActive,
  type Orphan,
  type Plan,
  type PlanGoal,
  type ProgressSink,
  type Provisioner,
  type Readiness,
  type StateStore,
  type StepKind,
} from '@agentfleet/core';
import { desiredAgents } from './desired.js';
import { type FleetRun, selectedAgents, sshUserOf } from './fleet-run.js';
import type { EngineLog } from './log.js';
import { observe } from './observe.js';
import { findOrphans, undefineOrphan } from './orphans.js';
import { agentDisk } from './paths.js';
import { mapLimit } from './pool.js';
import { bookProvisionStore } from './provision/book-store.js';
import { removePregeneratedKey } from './provision/pregenerated-key.js';
import { StateBook } from './state-book.js';

export interface EngineDeps {
  /** A (cached) connection per libvirt URI. */
  connect(uri: string): Promise<Hypervisor>;
  disks: Disks;
  state: StateStore;
  readiness: Readiness;
  host: HostProbe;
  /** The hand-over after "ssh ready"; without one, `up` ends there. */
  provisioner?: Provisioner;
  progress: ProgressSink;
  log: EngineLog;
  /**
   * The host key committed for the agent in the fleet repository (secrets/hosts/NAME.pub), if any: the pin that
   * still holds when state.json was lost, so a guest presenting another key is refused, never re-pinned silently.
   */
  committedHostKey?(agent: string): Promise<string | undefined>;
}

export interface RunOptions {
  goal: PlanGoal;
  /** `plan` computes and reports; `up`/`down`/`destroy` also apply. Same code path. */
  dryRun: boolean;
  /** Agents brought up (or down) at once. */
  concurrency: number;
  /** How long the SSH port may take to appear after start (a silently ignored forward). */
  portCheckSeconds?: number;
  /** Poll interval while waiting for state changes. */
  pollMs?: number;
}

export interface AgentOutcome {
  agent: string;
  ok: boolean;
  steps: StepKind[];
  error?: string;
}

export interface RunResult {
  plan: Plan;
  outcomes: AgentOutcome[];
  /** Final per-agent runtime state, for ssh_config/known_hosts and status. */
  state: StateBook;
}

export class AgentStepError extends Error {
  override name = 'AgentStepError';
}

/** Plans and (unless dry-run) applies one goal for the selected agents. */
export async function runFleet(run: FleetRun, deps: EngineDeps, opts: RunOptions): Promise<RunResult> {
  const book = await StateBook.open(deps.state);
  const orphans = await findOrphans(run, deps.connect);
  // destroy/purge may name an orphan (its YAML is gone); every other goal acts on declared agents.
  const destroying = opts.goal === 'destroy' || opts.goal === 'purge';
  const named = destroying ? orphans.filter((o) => run.names.includes(o.agent)) : [];
  const declaredNames = run.names.filter((n) => !named.some((o) => o.agent === n));
  const desired =
    run.names.length > 0 && declaredNames.length === 0
      ? []
      : await desiredAgents(
          { ...run, names: declaredNames },
          deps.connect,
          // Only `up` makes disks from the base image: stopping or destroying never depends on it (it may be gone).
          opts.goal === 'up' ? await deps.disks.baseIdentity(run.baseImage) : unreadBase(run.baseImage),
          deps.log,
        );
  const actual = await observe(desired, deps.connect, deps.disks, book);
  const plan = computePlan({
    goal: opts.goal,
    desired,
    actual,
    provision: deps.provisioner !== undefined,
    orphans,
  });
  deps.progress({ type: 'plan', plan });
  if (opts.dryRun) return { plan, outcomes: [], state: book };

  const work = plan.actions.filter((a) => a.steps.length > 0 || a.kind === 'blocked');
  const outcomes = await mapLimit(work, opts.concurrency, (a) => applyAction(a, run, deps, book, opts));
  for (const o of named) outcomes.push(await removeOrphan(o, opts.goal === 'purge', run, deps, book));
  if (opts.goal === 'purge') await forgetDisklessAgents(plan, outcomes, run, book);
  return { plan, outcomes, state: book };
}

/** The base image's identity where no plan step reads it (down, destroy, purge). */
const unreadBase = (path: string): BaseIdentity => ({ path, size: -1, mtimeMs: 0, headSha256: '' });

/**
 * A purge whose disk was already gone (deleted by hand, or purged before) has no delete-disk step,
 * yet the pinned host key and provisioning progress belonged to that disk too.
 */
async function forgetDisklessAgents(plan: Plan, outcomes: AgentOutcome[], run: FleetRun, book: StateBook) {
  const failed = new Set(outcomes.filter((o) => !o.ok).map((o) => o.agent));
  for (const a of plan.actions) {
    if (a.before?.disk.exists || failed.has(a.agent)) continue;
    await removePregeneratedKey(run.stateDir, a.agent);
    if (book.get(a.agent)) await book.forget(a.agent);
  }
}

/** An orphan named on destroy: undefined; with purge also its disk, pre-generated key and state. */
async function removeOrphan(
  o: Orphan,
  purge: boolean,
  run: FleetRun,
  deps: EngineDeps,
  book: StateBook,
): Promise<AgentOutcome> {
  const steps: StepKind[] = isActive(o.state) ? ['force-off', 'undefine'] : ['undefine'];
  try {
    await undefineOrphan(o, await deps.connect(o.uri));
    if (purge) {
      // Only the disk fleet itself would have made for this agent, never a path read from the XML.
      const disk = agentDisk(run.stateDir, o.agent);
      if ((await deps.disks.inspect(disk)).exists) {
        await deps.disks.remove(disk);
        steps.push('delete-disk');
      }
      await removePregeneratedKey(run.stateDir, o.agent);
      if (book.get(o.agent)) await book.forget(o.agent);
    }
    deps.progress({ type: 'agent', agent: o.agent, status: 'done' });
    return { agent: o.agent, ok: true, steps };
  } catch (err) {
    const error = (err as Error).message;
    deps.progress({ type: 'agent', agent: o.agent, status: 'failed', error });
    return { agent: o.agent, ok: false, steps: [], error };
  }
}

async function applyAction(
  action: AgentAction,
  run: FleetRun,
  deps: EngineDeps,
  book: StateBook,
  opts: RunOptions,
): Promise<AgentOutcome> {
  const agent = action.agent;
  const done: StepKind[] = [];
  try {
    if (action.kind === 'blocked') throw new AgentStepError(action.reasons.join('; '));
    const d = action.after as DesiredAgent;
    const hv = await deps.connect(d.uri);
    for (const step of action.steps) {
      deps.progress({ type: 'step', agent, step, status: 'start' });
      await applyStep(step, d, hv, run, deps, book, opts);
      deps.progress({ type: 'step', agent, step, status: 'done' });
      done.push(step);
    }
    if (book.get(agent)?.lastError !== undefined) await book.update(agent, { lastError: undefined });
    deps.progress({ type: 'agent', agent, status: 'done' });
    return { agent, ok: true, steps: done };
  } catch (err) {
    const error = (err as Error).message;
    if (action.kind !== 'blocked' && book.get(agent)) await book.update(agent, { lastError: error });
    deps.progress({ type: 'agent', agent, status: 'failed', error });
    deps.log.warn({ agent, error, done }, 'agent failed');
    return { agent, ok: false, steps: done, error };
  }
}

async function applyStep(
  step: StepKind,
  d: DesiredAgent,
  hv: Hypervisor,
  run: FleetRun,
  deps: EngineDeps,
  book: StateBook,
  opts: RunOptions,
): Promise<void> {
  const agent = d.name;
  switch (step) {
    case 'create-disk':
      await deps.disks.create({ path: d.disk.path, base: d.disk.base, mode: d.disk.mode }, (done, total) =>
        deps.progress({ type: 'bytes', agent, done, total }),
      );
      return book.update(agent, {
        phase: 'disk',
        disk: { path: d.disk.path, mode: d.disk.mode, base: d.disk.baseIdentity },
        // A new disk is a new guest: whatever was provisioned before is gone with the old one, and so is its host
        // key. The pin no longer applies; the guest is pinned at first contact and provisioned (rekeyed) again.
        provision: undefined,
        hostKey: undefined,
      });
    case 'define':
      // Defining is idempotent: a same-name definition replaces the config, keeps the UUID.
      await hv.define(d.xml);
      return book.update(agent, { phase: 'defined' });
    case 'start':
      await startAndCheckPort(d, hv, deps, opts);
      return book.update(agent, { phase: 'started', startedAt: new Date().toISOString() });
    case 'restart':
      await stopDomain(d, hv, run, deps, opts);
      await startAndCheckPort(d, hv, deps, opts);
      return book.update(agent, { phase: 'started', startedAt: new Date().toISOString() });
    case 'await-ssh':
      return awaitSsh(d, run, deps, book);
    case 'provision': {
      const hostKey = book.get(agent)?.hostKey;
      if (!deps.provisioner || !hostKey)
        throw new AgentStepError('provisioning requested without SSH readiness');
      return deps.provisioner.provision(agent, {
        hostKey,
        progress: (message) => deps.progress({ type: 'message', agent, message }),
        store: bookProvisionStore(book),
      });
    }
    case 'stop':
      await stopDomain(d, hv, run, deps, opts);
      if (book.get(agent)) await book.update(agent, { phase: 'defined' });
      return;
    case 'force-off':
      await hv.destroy(d.domain);
      if (book.get(agent)) await book.update(agent, { phase: 'defined' });
      return;
    case 'undefine':
      await hv.undefine(d.domain);
      if (book.get(agent)) await book.update(agent, { phase: book.get(agent)?.disk ? 'disk' : 'declared' });
      return;
    case 'delete-disk':
      await deps.disks.remove(d.disk.path);
      // A pre-generated host key belongs to the disk: a new disk gets a new key.
      await removePregeneratedKey(run.stateDir, agent);
      return book.forget(agent);
  }
}

async function startAndCheckPort(d: DesiredAgent, hv: Hypervisor, deps: EngineDeps, opts: RunOptions) {
  await hv.start(d.domain);
  // libvirt accepts a <portForward> it cannot honour and ignores it: check that the port is
  // really there before waiting minutes for an SSH that can never answer.
  const deadline = Date.now() + (opts.portCheckSeconds ?? 15) * 1000;
  while (!(await deps.host.listensOnLoopback(d.sshPort))) {
    if (Date.now() > deadline) {
      throw new AgentStepError(
        `started ${d.domain}, but nothing listens on 127.0.0.1:${d.sshPort}: the SSH port forward was not set up ` +
          `(a <portForward> without a passt backend is silently ignored; try portForward: hostfwd)` +
          (await consoleHint(d, deps)),
      );
    }
    await sleep(opts.pollMs ?? 200);
  }
}

async function stopDomain(
  d: DesiredAgent,
  hv: Hypervisor,
  run: FleetRun,
  deps: EngineDeps,
  opts: RunOptions,
) {
  if (!(await isRunning(hv, d.domain))) return;
  await hv.shutdown(d.domain);
  const deadline = Date.now() + run.fleet.config.bootTimeouts.shutdownSeconds * 1000;
  while (await isRunning(hv, d.domain)) {
    if (Date.now() > deadline) {
      deps.log.warn({ agent: d.name }, 'ACPI shutdown timed out: forcing off');
      deps.progress({ type: 'message', agent: d.name, message: 'ACPI shutdown timed out: forcing off' });
      await hv.destroy(d.domain).catch(async (err) => {
        if (await isRunning(hv, d.domain)) throw err;
      });
      return;
    }
    await sleep(opts.pollMs ?? 200);
  }
}

async function isRunning(hv: Hypervisor, domain: string): Promise<boolean> {
  const found = (await hv.listDomains()).find((x) => x.name === domain);
  return isActive(found?.state);
}

async function awaitSsh(d: DesiredAgent, run: FleetRun, deps: EngineDeps, book: StateBook) {
  const spec = selectedAgents(run).find((a) => a.name === d.name);
  const pinned = await pinnedHostKey(d.name, book, deps);
  let result: { hostKey: string };
  try {
    result = await deps.readiness.wait(
      {
        agent: d.name,
        host: '127.0.0.1',
        port: d.sshPort,
        user: spec ? sshUserOf(run, spec) : 'root',
        identityFile: run.identityFile,
        ...(pinned !== undefined && { pinnedHostKey: pinned }),
        timeoutSeconds: run.fleet.config.bootTimeouts.sshSeconds,
      },
      (stage) => deps.progress({ type: 'stage', agent: d.name, stage }),
    );
  } catch (err) {
    throw new AgentStepError(`${(err as Error).message}${await consoleHint(d, deps)}`, { cause: err });
  }
  await book.update(d.name, { phase: 'ssh-ready', hostKey: result.hostKey });
}

/**
 * The key the agent must present: the one in state.json; without one, the key committed in the fleet repository,
 * unless fleet itself recorded making the agent's current disk (then the guest is new and pinned at first contact).
 */
async function pinnedHostKey(agent: string, book: StateBook, deps: EngineDeps): Promise<string | undefined> {
  const record = book.get(agent);
  if (record?.hostKey !== undefined) return record.hostKey;
  if (record?.disk !== undefined) return undefined;
  return deps.committedHostKey?.(agent);
}

async function consoleHint(d: DesiredAgent, deps: EngineDeps): Promise<string> {
  const tail = await deps.host.consoleTail(d.consoleLog, 15).catch(() => []);
  if (tail.length === 0) return `\n(console log ${d.consoleLog} is empty)`;
  return `\nlast lines of ${d.consoleLog}:\n  ${tail.join('\n  ')}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
