import type { BuildOn, FollowUp, Plan, PlanGoal, ProgressSink, Provisioner } from '@agentfleet/core';
import { InFlightAgents, type RunResult, runFleet, sshConfigFile } from '@agentfleet/engine';
import type { AppContext } from './context.js';
import { engineDeps, openRuntime, type RunGuard, type Runtime } from './runtime.js';
import { refreshSshFiles } from './ssh-files.js';

/** What to bring about: `plan` is `up` as a dry run; `purge` is `destroy --purge`. */
export interface GoalRequest {
  names: string[];
  goal: PlanGoal;
  dryRun: boolean;
  concurrency?: number;
  /** Continue into provisioning once an agent answers SSH (`up`; `plan` shows those steps). */
  provision?: boolean;
  /** Where systems are built (`--build-on`; default fleet.yaml's provision.build). */
  buildOn?: BuildOn;
  /** Make new local agents' SSH host keys here before first boot (one rebuild instead of two; `up`: unless --no-pregenerate-host-keys). */
  pregenerateHostKeys?: boolean;
  /** Asked with the plan before anything is deleted (destroy, remove). */
  confirm?: (plan: Plan) => Promise<boolean>;
  /** Work under the run's lock before the plan is computed (reset, rebase: the disk goes first). */
  before?: (rt: Runtime) => Promise<void>;
  /** Shown with the plan: what `after` will do (a FollowUpWork's `followUps`). */
  followUps?: FollowUp[];
}

/**
 * Work that follows a destroy (purgeWork, removalWork): `followUps` for the plan to show
 * (GoalRequest.followUps), `run` to do them as runGoal's `after`. Both from one place, so the plan
 * says what is done.
 */
export interface FollowUpWork<T> {
  followUps: FollowUp[];
  run(rt: Runtime): Promise<T>;
}

/** How a front-end follows a run. */
export interface GoalHooks {
  /** Names the lock's holder to a second run that finds it taken (the CLI: its command line). */
  holder: string;
  /** The plan first, then every step of every agent. */
  progress?: ProgressSink;
  /** Made once the lock is wanted (the CLI's Ctrl-C handling). */
  guard?: (release: () => Promise<void>) => RunGuard;
  /** Stops the front-end's progress display: before follow-up work, and first on a stop. */
  stopProgress?: () => void;
  /** An agent's host key was made here before its first boot (`pregenerateHostKeys`). */
  hostKeyPregenerated?: (agent: string) => void;
}

export interface GoalOutcome<T> {
  result: RunResult;
  /** ssh_config for plain `ssh -F <it> <agent>`. */
  sshConfig: string;
  /** What the follow-up work returned (when it ran: applied, confirmed, every agent ok). */
  after?: T;
}

/**
 * `plan`, `up`, `down` and `destroy` in one path: open the fleet (taking the lock unless this is
 * a dry run), compute the plan, and unless this is a dry run apply it, then refresh ssh_config and
 * known_hosts and run `after` under the same lock.
 */
export async function runGoal<T = undefined>(
  ctx: AppContext,
  req: GoalRequest,
  hooks: GoalHooks,
  /** More work under the same lock once the plan is applied (e.g. `remove` deleting files). */
  after?: (rt: Runtime, result: RunResult) => Promise<T>,
): Promise<GoalOutcome<T>> {
  const rt = await openRuntime(ctx, {
    names: req.names,
    writeLedger: !req.dryRun,
    syncAgentsJson: req.goal === 'up' && !req.dryRun,
    allowOrphans: req.goal === 'destroy' || req.goal === 'purge',
    startsAgents: req.goal === 'up',
    checkShares: req.goal === 'up',
    ...(!req.dryRun && { lock: hooks.holder }),
    ...(hooks.guard && { guard: hooks.guard }),
  });
  // Since the process started: Node, imports, reading the fleet, allocation against the live hosts.
  ctx.log.debug({ ms: Math.round(performance.now()) }, 'runtime open');
  const stop = hooks.stopProgress ?? (() => {});
  rt.interrupts?.atStop(stop);
  // Who a shared host build waits for (build: host).
  const inFlight = new InFlightAgents();
  const sink: ProgressSink = (e) => {
    rt.interrupts?.record(e);
    inFlight.observe(e);
    hooks.progress?.(e);
  };
  try {
    if (req.pregenerateHostKeys && !req.dryRun) {
      const { pregenerateHostKeys } = await import('./host-key-pregen.js');
      for (const name of await pregenerateHostKeys(rt.run)) hooks.hostKeyPregenerated?.(name);
    }
    if (req.before && !req.dryRun) await req.before(rt);
    const result = await runFleet(
      rt.run,
      engineDeps(ctx, rt, sink, req.provision ? lazyProvisioner(ctx, rt, req.buildOn, inFlight) : undefined),
      {
        goal: req.goal,
        dryRun: req.dryRun,
        concurrency: req.concurrency ?? 4,
        ...(req.confirm && { confirm: req.confirm }),
        ...(req.followUps && { followUps: req.followUps }),
      },
    );
    stop();
    const outcome: GoalOutcome<T> = { result, sshConfig: sshConfigFile(rt.stateDir) };
    try {
      if (after && !req.dryRun && result.confirmed && result.outcomes.every((o) => o.ok))
        outcome.after = await after(rt, result);
    } finally {
      // Every applied goal may pin or forget keys (up records, destroy --purge forgets): after the
      // follow-up, which retires a purged agent's committed key, so no pin of it is written back.
      if (!req.dryRun) await refreshSshFiles(rt);
      // Since the process started, as 'runtime open': what follows is only closing connections and exiting.
      ctx.log.debug({ ms: Math.round(performance.now()) }, 'ssh_config and known_hosts written');
    }
    return outcome;
  } finally {
    stop();
    await rt.close();
  }
}

/**
 * The fleet's provisioner, loaded (ssh2, age, the secrets code) when the first agent gets to provisioning: a plan,
 * or an `up` with nothing to provision, never loads it.
 */
function lazyProvisioner(
  ctx: AppContext,
  rt: Runtime,
  buildOn: BuildOn | undefined,
  inFlight: InFlightAgents,
): Provisioner {
  let loaded: Promise<Provisioner> | undefined;
  return {
    async provision(agent, pctx) {
      loaded ??= import('./provisioning.js').then((m) => m.fleetProvisioner(ctx, rt, buildOn, inFlight));
      return (await loaded).provision(agent, pctx);
    },
  };
}
