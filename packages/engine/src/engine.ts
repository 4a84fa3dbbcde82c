import {
  type AgentAction,
  type BaseIdentity,
  computePlan,
  type DesiredAgent,
  type Disks,
  type FollowUp,
  type GuestNetworks,
  type HostProbe,
  type Hypervisor,
  isActive,
  type Plan,
  type PlanGoal,
  type ProgressSink,
  type Provisioner,
  type Readiness,
  type StateStore,
  type StepKind,
} from '@agentfleet/core';
import { type AgentFileStore, removeAgentLogs } from './agent-files.js';
import { pinnedHostKey } from './committed-pin.js';
import { desiredAgents } from './desired.js';
import { type FleetRun, fleetIdentity, selectedAgents, sshUserOf } from './fleet-run.js';
import type { EngineLog } from './log.js';
import { observe } from './observe.js';
import { findOrphans } from './orphans.js';
import { agentPasstSocket, agentRunDir } from './paths.js';
import { mapLimit } from './pool.js';
import { bookProvisionStore } from './provision/book-store.js';
import { HOST_KEY_FWCFG, type HostKeyStore, sameKeyLine } from './provision/pregenerated-key.js';
import { StateBook } from './state-book.js';

/** How long `destroy` lets a guest shut down cleanly (ACPI) before forcing it off. */
export const DESTROY_SHUTDOWN_SECONDS = 10;

export interface EngineDeps {
  /** A (cached) connection per libvirt URI. */
  connect(uri: string): Promise<Hypervisor>;
  disks: Disks;
  state: StateStore;
  readiness: Readiness;
  host: HostProbe;
  /** The per-agent passt of `network: isolated`, and the private directory of each agent's sockets. */
  networks: GuestNetworks;
  /** Host keys made before first boot: handed to the guest via fw_cfg, gone once it presents them (or with the disk). */
  hostKeys: HostKeyStore;
  /** The agents' other files in the state dir (logs, the runtime directory): listed and deleted by a purge. */
  files: AgentFileStore;
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
  /**
   * Asked with the plan before it is applied (destroy, purge, remove: the caller decides whether
   * the plan deletes enough to ask); false stops the run with nothing done.
   */
  confirm?: (plan: Plan) => Promise<boolean>;
  /** ACPI shutdown budget of destroy's power-off step (default DESTROY_SHUTDOWN_SECONDS). */
  powerOffSeconds?: number;
  /** The caller's work after a successful apply (destroy --purge, remove): shown with the plan, done by the caller. */
  followUps?: FollowUp[];
}

export interface AgentOutcome {
  agent: string;
  ok: boolean;
  steps: StepKind[];
  error?: string;
  /** Files deleted (purge). */
  deleted?: string[];
}

export interface RunResult {
  plan: Plan;
  /** False when `confirm` declined: nothing was applied. */
  confirmed: boolean;
  outcomes: AgentOutcome[];
  /** Final per-agent runtime state, for ssh_config/known_hosts and status. */
  state: StateBook;
}

export class AgentStepError extends Error {
  override name = 'AgentStepError';
}

/** Plans and (unless dry-run) applies one goal for the selected agents. */
export async function runFleet(run: FleetRun, deps: EngineDeps, opts: RunOptions): Promise<RunResult> {
  // `--log-level debug` shows where the time goes: each phase and step with its duration (pino adds the time).
  const phase = timer(deps.log);
  const identity = fleetIdentity(run);
  const book = await StateBook.open(
    deps.state,
    opts.dryRun
      ? (err) =>
          deps.log.warn(
            { err: err.message },
            `${err.message}: the plan below assumes nothing was recorded (no phase, no pin); ` +
              'commands that change the fleet refuse until the file is repaired or removed',
          )
      : undefined,
  );
  const orphans = await findOrphans(run, deps.connect, { disks: deps.disks, files: deps.files });
  phase('state and orphans read');
  // destroy/purge may name an orphan (its YAML is gone); every other goal acts on declared agents.
  const destroying = opts.goal === 'destroy' || opts.goal === 'purge';
  const named = destroying ? run.names.filter((n) => orphans.some((o) => o.agent === n)) : [];
  const declaredNames = run.names.filter((n) => !named.includes(n));
  const desired =
    run.names.length > 0 && declaredNames.length === 0
      ? []
      : await desiredAgents(
          { ...run, names: declaredNames },
          deps.connect,
          // Only `up` makes disks from the base image: stopping or destroying never depends on it (it may be gone).
          opts.goal === 'up' ? await deps.disks.baseIdentity(run.baseImage) : unreadBase(run.baseImage),
          deps.log,
          deps.hostKeys,
        );
  phase('desired domains built');
  const actual = await observe(desired, deps.connect, deps.disks, deps.files, book, {
    fleetId: identity.id,
    stateDir: run.stateDir,
  });
  phase('actual state observed');
  const plan = computePlan({
    goal: opts.goal,
    desired,
    actual,
    provision: deps.provisioner !== undefined,
    orphans,
    named,
  });
  if (opts.followUps && opts.followUps.length > 0) plan.followUps = opts.followUps;
  deps.progress({ type: 'plan', plan });
  if (opts.dryRun) return { plan, confirmed: true, outcomes: [], state: book };
  // The plan just shown is the plan applied: a dry run and the real run cannot disagree.
  if (opts.confirm && !(await opts.confirm(plan))) {
    return { plan, confirmed: false, outcomes: [], state: book };
  }

  await stopIdleNetworks(plan, run, deps);
  const lost = opts.goal === 'up' ? await lostNetworks(plan, deps) : new Map<string, string>();
  const work = plan.actions.filter((a) => (a.steps.length > 0 || a.kind === 'blocked') && !lost.has(a.agent));
  const outcomes = await mapLimit(work, opts.concurrency, (a) => applyAction(a, run, deps, book, opts));
  for (const [agent, error] of lost) {
    deps.progress({ type: 'agent', agent, status: 'failed', error });
    outcomes.push({ agent, ok: false, steps: [], error });
  }
  if (opts.goal === 'purge') await forgetDisklessAgents(plan, outcomes, deps.hostKeys, book);
  if (opts.goal === 'up') await finishVerifiedHandovers(plan, outcomes, deps, book);
  return { plan, confirmed: true, outcomes, state: book };
}

/**
 * A hand-over still pending on a running agent that this run did not wait for (left by a fleet from before the
 * hand-over was one-shot): its recorded SSH readiness was a contact verified by that very key, so it is finished now,
 * not only at the agent's next boot.
 */
async function finishVerifiedHandovers(
  plan: Plan,
  outcomes: AgentOutcome[],
  deps: EngineDeps,
  book: StateBook,
) {
  const failed = new Set(outcomes.filter((o) => !o.ok).map((o) => o.agent));
  for (const a of plan.actions) {
    const d = a.after;
    if (!d?.hostKeyHandover || a.kind === 'blocked' || a.steps.includes('await-ssh') || failed.has(a.agent))
      continue;
    if (!isActive(a.before?.domain?.state) || book.get(a.agent)?.phase !== 'ssh-ready') continue;
    // The agent itself is fine: a failure here (the definition) is finished by the next run, which finds the key gone.
    try {
      await finishHostKeyHandover(d, await deps.connect(d.uri), deps, book);
    } catch (err) {
      deps.log.warn(
        { agent: a.agent, err: (err as Error).message },
        'finishing the host-key hand-over failed',
      );
    }
  }
}

/**
 * A passt whose domain is not running (the guest powered itself off, a run was killed between
 * starting passt and the domain) serves nobody: stopped at the start of every applying run.
 */
async function stopIdleNetworks(plan: Plan, run: FleetRun, deps: EngineDeps) {
  const idle = [
    ...plan.actions.filter((a) => !isActive(a.before?.domain?.state)).map((a) => a.agent),
    ...(plan.orphans ?? []).filter((o) => !isActive(o.state)).map((o) => o.agent),
  ];
  await Promise.all(idle.map((agent) => deps.networks.stop(agentPasstSocket(run.stateDir, agent))));
}

/**
 * A running isolated domain whose passt is gone has neither network nor SSH, and QEMU 7.2's
 * `-netdev stream` does not rejoin a new passt: only a restart repairs it, which `up` leaves to
 * the operator rather than cut a running agent's work short.
 */
async function lostNetworks(plan: Plan, deps: EngineDeps): Promise<Map<string, string>> {
  const lost = new Map<string, string>();
  for (const a of plan.actions) {
    const socket = a.after?.passtSocket;
    if (!socket || !isActive(a.before?.domain?.state) || a.steps.includes('restart')) continue;
    if (await deps.networks.isRunning(socket)) continue;
    lost.set(
      a.agent,
      `the passt of agent ${a.agent} is gone while its domain runs, so the guest has no network and no SSH ` +
        `(QEMU cannot rejoin a new passt): restart it with 'fleet down ${a.agent} && fleet up ${a.agent}'`,
    );
  }
  return lost;
}

/** The base image's identity where no plan step reads it (down, destroy, purge). */
const unreadBase = (path: string): BaseIdentity => ({ path, size: -1, mtimeMs: 0, headSha256: '' });

/**
 * A purge whose disk was already gone (deleted by hand, or purged before) has no delete-disk step,
 * yet the pinned host key and provisioning progress belonged to that disk too.
 */
async function forgetDisklessAgents(
  plan: Plan,
  outcomes: AgentOutcome[],
  hostKeys: HostKeyStore,
  book: StateBook,
) {
  const failed = new Set(outcomes.filter((o) => !o.ok).map((o) => o.agent));
  for (const a of plan.actions) {
    if (a.before?.disk.exists || failed.has(a.agent)) continue;
    await hostKeys.remove(a.agent);
    if (book.get(a.agent)) await book.forget(a.agent);
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
  const deleted: string[] = [];
  try {
    if (action.kind === 'blocked') throw new AgentStepError(action.reasons.join('; '));
    const target = targetOf(action);
    const hv = await deps.connect(target.uri);
    for (const step of action.steps) {
      deps.progress({ type: 'step', agent, step, status: 'start' });
      const started = performance.now();
      if (REMOVAL_STEPS.has(step))
        await applyRemovalStep(step, target, hv, run.stateDir, deps, book, opts, deleted);
      else await applyStep(step, action.after as DesiredAgent, hv, run, deps, book, opts);
      deps.log.debug({ agent, step, ms: Math.round(performance.now() - started) }, `${agent}: ${step} done`);
      deps.progress({ type: 'step', agent, step, status: 'done' });
      done.push(step);
    }
    if (book.get(agent)?.lastError !== undefined) await book.update(agent, { lastError: undefined });
    deps.progress({ type: 'agent', agent, status: 'done' });
    return { agent, ok: true, steps: done, ...(deleted.length > 0 && { deleted }) };
  } catch (err) {
    const error = (err as Error).message;
    // Recording the failure may fail like the step did (a full disk): the outcome still reports it.
    if (action.kind !== 'blocked' && book.get(agent))
      await book
        .update(agent, { lastError: error })
        .catch((e: unknown) =>
          deps.log.warn({ agent, err: (e as Error).message }, 'could not record the failure in state.json'),
        );
    deps.progress({ type: 'agent', agent, status: 'failed', error });
    deps.log.warn({ agent, error, done }, 'agent failed');
    return { agent, ok: false, steps: done, error };
  }
}

const REMOVAL_STEPS: ReadonlySet<StepKind> = new Set([
  'power-off',
  'undefine',
  'delete-disk',
  'delete-files',
]);

/** What destroy/purge steps act on: a declared agent's domain and files, or an orphan's. */
interface RemovalTarget {
  agent: string;
  domain: string;
  uri: string;
  disk?: string;
  files: { path: string; what: string }[];
}

function targetOf(action: AgentAction): RemovalTarget {
  const o = action.orphan;
  if (o)
    return {
      agent: o.agent,
      domain: o.domain,
      uri: o.uri,
      files: o.files ?? [],
      ...(o.disk && { disk: o.disk }),
    };
  const d = action.after as DesiredAgent;
  return {
    agent: d.name,
    domain: d.domain,
    uri: d.uri,
    disk: d.disk.path,
    files: action.before?.files ?? [],
  };
}

/** The steps that take an agent apart, shared by declared agents and orphans. */
async function applyRemovalStep(
  step: StepKind,
  t: RemovalTarget,
  hv: Hypervisor,
  stateDir: string,
  deps: EngineDeps,
  book: StateBook,
  opts: RunOptions,
  deleted: string[],
): Promise<void> {
  const agent = t.agent;
  switch (step) {
    case 'power-off':
      await shutDown(hv, t.domain, agent, opts.powerOffSeconds ?? DESTROY_SHUTDOWN_SECONDS, deps, opts);
      await deps.networks.stop(agentPasstSocket(stateDir, agent));
      if (book.get(agent)) await book.update(agent, { phase: 'defined' });
      return;
    case 'undefine':
      await hv.undefine(t.domain);
      await deps.networks.stop(agentPasstSocket(stateDir, agent));
      if (book.get(agent)) await book.update(agent, { phase: book.get(agent)?.disk ? 'disk' : 'declared' });
      return;
    case 'delete-disk':
      if (t.disk === undefined) return;
      await deps.disks.remove(t.disk, t.uri);
      deleted.push(t.disk);
      return book.get(agent) ? book.forget(agent) : undefined;
    case 'delete-files':
      await deps.files.remove(t.files);
      deleted.push(...t.files.map((f) => f.path));
      return book.get(agent) ? book.forget(agent) : undefined;
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
      await deps.disks.create(
        { path: d.disk.path, base: d.disk.base, mode: d.disk.mode, uri: d.uri },
        (done, total) => deps.progress({ type: 'bytes', agent, done, total }),
      );
      await removeAgentLogs(deps.files, run.stateDir, agent);
      return book.update(agent, {
        phase: 'disk',
        disk: { path: d.disk.path, mode: d.disk.mode, base: d.disk.baseIdentity },
        // A new disk is a new guest: whatever was provisioned before is gone with the old one, and so is its host
        // key, and it is provisioned (rekeyed) again. Its pin is the key fleet made for it before first boot (and
        // hands over via fw_cfg), so even first contact is verified; without one, the guest is pinned at first contact.
        provision: undefined,
        hostKey: (await deps.hostKeys.read(agent))?.publicKey,
        hostKeyHandedOver: undefined,
      });
    case 'define':
      // Defining is idempotent: a same-name definition replaces the config, keeps the UUID.
      await hv.define(d.xml);
      return book.update(agent, { phase: 'defined' });
    case 'autostart':
      return hv.setAutostart(d.domain, d.autostart);
    case 'start':
      await startAndCheckPort(d, hv, run, deps, opts);
      return book.update(agent, { phase: 'started', startedAt: new Date().toISOString() });
    case 'restart':
      await stopDomain(d, hv, run, deps, opts);
      await stopNetwork(d, run, deps);
      await startAndCheckPort(d, hv, run, deps, opts);
      return book.update(agent, { phase: 'started', startedAt: new Date().toISOString() });
    case 'await-ssh':
      await awaitSsh(d, run, deps, book);
      return finishHostKeyHandover(d, hv, deps, book);
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
      await stopNetwork(d, run, deps);
      if (book.get(agent)) await book.update(agent, { phase: 'defined' });
      return;
    default:
      throw new AgentStepError(`step ${step} is not one of bring-up`);
  }
}

/** Whatever the agent's mode is now, a passt it had (it may have been isolated before) goes. */
const stopNetwork = (d: DesiredAgent, run: FleetRun, deps: EngineDeps) =>
  deps.networks.stop(agentPasstSocket(run.stateDir, d.name));

async function startAndCheckPort(
  d: DesiredAgent,
  hv: Hypervisor,
  run: FleetRun,
  deps: EngineDeps,
  opts: RunOptions,
) {
  // QEMU creates the SPICE socket there, and joins passt's.
  await deps.networks.prepareDir(agentRunDir(run.stateDir, d.name));
  // The parts of `start` are timed apart: bring-up with passt (and its firewall) is measured against hostfwd.
  let started = performance.now();
  const took = (part: string) => {
    deps.log.debug(
      { agent: d.name, part, ms: Math.round(performance.now() - started) },
      `${d.name}: ${part}`,
    );
    started = performance.now();
  };
  if (d.passtSocket) {
    await deps.networks.ensure({ agent: d.name, socketPath: d.passtSocket, sshPort: d.sshPort });
    took('passt ready');
  }
  try {
    await hv.start(d.domain);
    took('domain started');
  } catch (err) {
    await stopNetwork(d, run, deps);
    throw err;
  }
  // libvirt accepts a <portForward> it cannot honour and ignores it: check that the port is
  // really there before waiting minutes for an SSH that can never answer.
  const deadline = Date.now() + (opts.portCheckSeconds ?? 15) * 1000;
  // QEMU opens the forward while virDomainCreate returns or just after: look again soon, then back off.
  let pause = 5;
  while (!(await deps.host.listensOnLoopback(d.sshPort, d.uri))) {
    if (Date.now() > deadline) {
      throw new AgentStepError(
        `started ${d.domain}, but nothing listens on 127.0.0.1:${d.sshPort}: the SSH port forward was not set up ` +
          `(a <portForward> without a passt backend is silently ignored; try portForward: hostfwd)` +
          (await consoleHint(d, deps)),
      );
    }
    await sleep(pause);
    pause = Math.min(pause * 2, opts.pollMs ?? 200);
  }
  took('ssh port listening');
}

async function stopDomain(
  d: DesiredAgent,
  hv: Hypervisor,
  run: FleetRun,
  deps: EngineDeps,
  opts: RunOptions,
) {
  await shutDown(hv, d.domain, d.name, run.fleet.config.bootTimeouts.shutdownSeconds, deps, opts);
}

/** ACPI shutdown, forced off when the guest has not stopped after `seconds`. */
async function shutDown(
  hv: Hypervisor,
  domain: string,
  agent: string,
  seconds: number,
  deps: EngineDeps,
  opts: RunOptions,
) {
  if (!(await isRunning(hv, domain))) return;
  await hv.shutdown(domain).catch(async (err) => {
    if (await isRunning(hv, domain))
      deps.log.warn({ agent, err: (err as Error).message }, 'ACPI shutdown refused');
  });
  const deadline = Date.now() + seconds * 1000;
  while (await isRunning(hv, domain)) {
    if (Date.now() > deadline) {
      deps.log.warn({ agent }, 'ACPI shutdown timed out: forcing off');
      deps.progress({ type: 'message', agent, message: 'ACPI shutdown timed out: forcing off' });
      await hv.destroy(domain).catch(async (err) => {
        if (await isRunning(hv, domain)) throw err;
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
  const committed = deps.committedHostKey;
  const pinned = await pinnedHostKey(book.get(d.name), committed && (() => committed(d.name)));
  let result: { hostKey: string };
  try {
    result = await deps.readiness.wait(
      {
        agent: d.name,
        uri: d.uri,
        host: '127.0.0.1',
        port: d.sshPort,
        user: spec ? sshUserOf(run, spec) : 'root',
        identityFile: run.identityFile,
        ...(pinned !== undefined && { pinnedHostKey: pinned }),
        timeoutSeconds: run.fleet.config.bootTimeouts.sshSeconds,
      },
      (stage) => {
        deps.log.debug({ agent: d.name, stage }, `${d.name}: ssh waiting for ${stage}`);
        deps.progress({
          type: 'stage',
          agent: d.name,
          stage,
          limitSeconds: run.fleet.config.bootTimeouts.sshSeconds,
        });
      },
    );
  } catch (err) {
    const hint = (await keyNotTaken(err, pinned, deps.hostKeys, d.name)) ? pregeneratedKeyHint(d.name) : '';
    throw new AgentStepError(`${(err as Error).message}${hint}${await consoleHint(d, deps)}`, { cause: err });
  }
  await book.update(d.name, { phase: 'ssh-ready', hostKey: result.hostKey });
}

/**
 * The guest presented the key fleet made for it and handed over through fw_cfg: it installed that key on its own
 * disk before its SSH server started (hosts/common/host-key.nix, the test image's init), so from now on the private
 * key lives only in the guest. The host's copy goes, and so does the fw_cfg entry from the definition (the running
 * QEMU read the file when it started; the next boot no longer names it). The key goes first, so a run killed at any
 * point leaves none behind: the next `up` redefines (and restarts) a domain still naming the file without the entry.
 */
async function finishHostKeyHandover(d: DesiredAgent, hv: Hypervisor, deps: EngineDeps, book: StateBook) {
  const handover = d.hostKeyHandover;
  const presented = book.get(d.name)?.hostKey;
  if (!handover || presented === undefined || !sameKeyLine(presented, handover.publicKey)) return;
  await deps.hostKeys.remove(d.name);
  await book.update(d.name, { hostKeyHandedOver: true });
  await hv.define(handover.xml);
  deps.log.debug({ agent: d.name }, `${d.name}: host key handed over; the host's copy is removed`);
}

/** The guest presents another key than the one fleet made for it before first boot and pinned. */
async function keyNotTaken(err: unknown, pinned: string | undefined, hostKeys: HostKeyStore, agent: string) {
  if ((err as Error).name !== 'HostKeyMismatchError' || pinned === undefined) return false;
  return (await hostKeys.read(agent))?.publicKey === pinned;
}

const pregeneratedKeyHint = (agent: string) =>
  `\nthe guest did not take the host key fleet made for it and handed over via fw_cfg ` +
  `(opt/agentfleet/${HOST_KEY_FWCFG}): its base image lacks the hand-over (hosts/common/host-key.nix). ` +
  `Build the base image with it, or start the agent over with its own key: ` +
  `'fleet destroy --purge ${agent}' then 'fleet up --no-pregenerate-host-keys ${agent}'`;

async function consoleHint(d: DesiredAgent, deps: EngineDeps): Promise<string> {
  const tail = await deps.host.consoleTail(d.consoleLog, 15).catch(() => []);
  if (tail.length === 0) return `\n(console log ${d.consoleLog} is empty)`;
  return `\nlast lines of ${d.consoleLog}:\n  ${tail.join('\n  ')}`;
}

/** Logs at debug how long since the last call (or since it was made), naming what was done in between. */
function timer(log: EngineLog): (what: string) => void {
  let last = performance.now();
  return (what) => {
    const now = performance.now();
    log.debug({ ms: Math.round(now - last) }, what);
    last = now;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
