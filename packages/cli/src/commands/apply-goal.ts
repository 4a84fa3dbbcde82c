import { engineDeps, type Runtime } from '@agentfleet/app/runtime';
import {
  allocationOf,
  type Plan,
  type PlanGoal,
  type ProgressSink,
  type Provisioner,
  planHasWork,
  planToJson,
  renderPlan,
} from '@agentfleet/core';
import {
  JsonStateStore,
  knownHostsFile,
  type RunResult,
  runFleet,
  sshConfigFile,
  sshUserOf,
  stateFile,
  writeSshFiles,
} from '@agentfleet/engine';
import { paletteFor } from '../colour.js';
import type { CliContext } from '../context.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../errors.js';
import { printResult } from '../output.js';
import { colourPlan } from './plan-colour.js';
import { openRuntime } from './runtime.js';

export interface GoalOptions {
  names: string[];
  goal: PlanGoal;
  dryRun: boolean;
  concurrency?: number;
  /** Continue into provisioning once an agent answers SSH (`up`; `plan` shows those steps). */
  provision?: boolean;
  /** Make new agents' SSH host keys here before first boot (one rebuild instead of two). */
  pregenerateHostKeys?: boolean;
  /** Asked before anything is deleted (destroy, remove); see confirmDeletion. */
  confirm?: (plan: Plan) => Promise<boolean>;
  /** Dry run: exit 2 when the plan has work (terraform's -detailed-exitcode). */
  detailedExitCode?: boolean;
}

/**
 * `plan`, `up`, `down` and `destroy` in one path: compute the plan, print it, and unless
 * this is a dry run apply it. The command line text is the lock holder's description.
 */
export async function applyGoal(
  ctx: CliContext,
  opts: GoalOptions,
  /** More work under the same lock once the plan is applied (e.g. `remove` deleting files). */
  after?: (rt: Runtime, result: RunResult) => Promise<void>,
): Promise<void> {
  const rt = await openRuntime(ctx, {
    names: opts.names,
    writeLedger: !opts.dryRun,
    syncAgentsJson: opts.goal === 'up' && !opts.dryRun,
    allowOrphans: opts.goal === 'destroy' || opts.goal === 'purge',
    ...(!opts.dryRun && { lock: `fleet ${process.argv.slice(2).join(' ')}` }),
  });
  // Since the process started: Node, imports, reading the fleet, allocation against the live hosts.
  ctx.log.debug({ ms: Math.round(performance.now()) }, 'runtime open');
  const interactive = !ctx.json && process.stderr.isTTY === true;
  // A plan prints only its result: no progress rendering to load.
  const bars = opts.dryRun
    ? { sink: () => {}, stop: () => {} }
    : (await import('./progress.js')).progressSink({ interactive });
  rt.interrupts?.atStop(bars.stop);
  const sink: ProgressSink = (e) => {
    rt.interrupts?.record(e);
    // The plan is the first thing a user reads; in --json it is part of the result instead.
    if (e.type === 'plan' && !ctx.json && !opts.dryRun)
      process.stdout.write(`${colourPlan(renderPlan(e.plan), paletteFor(process.stdout))}\n`);
    bars.sink(e);
  };
  let result: RunResult;
  try {
    if (opts.pregenerateHostKeys && !opts.dryRun) {
      const { pregenerateHostKeys } = await import('@agentfleet/app/provisioning');
      for (const name of await pregenerateHostKeys(rt))
        process.stderr.write(`${name}: host key pre-generated\n`);
    }
    result = await runFleet(
      rt.run,
      engineDeps(ctx, rt, sink, opts.provision ? lazyProvisioner(ctx, rt) : undefined),
      {
        goal: opts.goal,
        dryRun: opts.dryRun,
        concurrency: opts.concurrency ?? 4,
        ...(opts.confirm && { confirm: opts.confirm }),
      },
    );
    bars.stop();
    // Every applied goal may pin or forget keys (up records, destroy --purge forgets).
    if (!opts.dryRun) await refreshSshFiles(rt);
    if (after && !opts.dryRun && result.confirmed && result.outcomes.every((o) => o.ok))
      await after(rt, result);
  } finally {
    bars.stop();
    await rt.close();
  }
  report(ctx, opts, result, rt);
}

/**
 * The fleet's provisioner, loaded (ssh2, age, the secrets code) when the first agent gets to provisioning: a plan,
 * or an `up` with nothing to provision, never loads it.
 */
function lazyProvisioner(ctx: CliContext, rt: Runtime): Provisioner {
  let loaded: Promise<Provisioner> | undefined;
  return {
    async provision(agent, pctx) {
      loaded ??= import('@agentfleet/app/provisioning').then((m) => m.fleetProvisioner(ctx, rt));
      return (await loaded).provision(agent, pctx);
    },
  };
}

/** ssh_config + known_hosts for every agent whose key is pinned (not just those in this run). */
export async function refreshSshFiles(rt: Runtime): Promise<void> {
  const state = await new JsonStateStore(stateFile(rt.stateDir)).load();
  const entries = rt.fleet.agents.flatMap((agent) => {
    const alloc = allocationOf(rt.run.ledger, agent.libvirtUri, agent.name);
    if (!alloc) return [];
    return [
      {
        agent: agent.name,
        port: alloc.sshPort,
        user: sshUserOf(rt.run, agent),
        identityFile: rt.run.identityFile,
        hostKey: state.agents[agent.name]?.hostKey,
      },
    ];
  });
  await writeSshFiles(entries, {
    sshConfig: sshConfigFile(rt.stateDir),
    knownHosts: knownHostsFile(rt.stateDir),
  });
}

function report(ctx: CliContext, opts: GoalOptions, result: RunResult, rt: Runtime): void {
  const failed = result.outcomes.filter((o) => !o.ok);
  if (opts.dryRun) {
    // A blocked agent is a plan `up` cannot carry out: scripts must not read it as success.
    const blocked = result.plan.actions.filter((a) => a.kind === 'blocked').map((a) => a.agent);
    printResult(
      ctx,
      colourPlan(renderPlan(result.plan), paletteFor(process.stdout)),
      { plan: planToJson(result.plan) },
      blocked.length > 0
        ? {
            code: 'blocked',
            message: `blocked: ${blocked.join(', ')}`,
            remedy: "fix what each blocked agent's reasons name, then run fleet plan again",
          }
        : undefined,
    );
    process.exitCode =
      blocked.length > 0
        ? EXIT_FAILURE
        : opts.detailedExitCode && planHasWork(result.plan)
          ? EXIT_USAGE
          : EXIT_OK;
    return;
  }
  if (!result.confirmed) {
    printResult(
      ctx,
      'Not confirmed: nothing was changed.',
      { confirmed: false },
      { code: 'failed', message: 'not confirmed: nothing was changed' },
    );
    process.exitCode = 1;
    return;
  }
  const lines: string[] = [];
  if (!planHasWork(result.plan) && failed.length === 0)
    lines.push('Nothing to do: every agent is as declared.');
  for (const o of result.outcomes) {
    lines.push(
      o.ok
        ? `${o.agent}: ok (${o.steps.join(', ') || 'no steps'})${(o.deleted ?? []).map((f) => `\n  deleted ${f}`).join('')}`
        : `${o.agent}: FAILED\n  ${o.error?.replace(/\n/g, '\n  ')}`,
    );
  }
  if (opts.goal === 'up' && failed.length < result.outcomes.length) {
    lines.push('', `Connect with: fleet ssh <name>   (or: ssh -F ${sshConfigFile(rt.stateDir)} <name>)`);
  }
  printResult(
    ctx,
    lines.join('\n'),
    { plan: planToJson(result.plan), outcomes: result.outcomes },
    failed.length > 0
      ? {
          code: 'failed',
          message: `failed: ${failed.map((f) => f.agent).join(', ')}`,
          remedy: `see each agent's error; \`fleet ${process.argv.slice(2).join(' ')}\` resumes once it is fixed`,
        }
      : undefined,
  );
  if (failed.length > 0) {
    process.exitCode = EXIT_FAILURE;
    ctx.log.debug({ failed: failed.map((f) => f.agent) }, 'some agents failed');
  }
}
