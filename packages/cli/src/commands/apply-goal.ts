import { type GoalOutcome, type GoalRequest, runGoal } from '@agentfleet/app/goal';
import type { Runtime } from '@agentfleet/app/runtime';
import { planHasWork, planToJson, renderPlan } from '@agentfleet/core';
import type { RunResult } from '@agentfleet/engine';
import { paletteFor } from '../colour.js';
import type { CliContext } from '../context.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../errors.js';
import { printResult } from '../output.js';
import { colourPlan } from './plan-colour.js';
import { lockHolder } from './runtime.js';

export interface GoalOptions extends GoalRequest {
  /** Dry run: exit 2 when the plan has work (terraform's -detailed-exitcode). */
  detailedExitCode?: boolean;
}

/**
 * `plan`, `up`, `down` and `destroy`: the application's runGoal with the CLI's progress bars,
 * plan printing, Ctrl-C handling and report. The command line text is the lock holder's description.
 */
export async function applyGoal<T>(
  ctx: CliContext,
  opts: GoalOptions,
  /** More work under the same lock once the plan is applied (e.g. `remove` deleting files). */
  after?: (rt: Runtime, result: RunResult) => Promise<T>,
): Promise<GoalOutcome<T>> {
  const interactive = !ctx.json && process.stderr.isTTY === true;
  // A plan prints only its result: no progress rendering to load.
  const bars = opts.dryRun
    ? { sink: () => {}, stop: () => {} }
    : (await import('./progress.js')).progressSink({ interactive });
  const outcome = await runGoal(
    ctx,
    opts,
    {
      ...lockHolder(ctx, `fleet ${process.argv.slice(2).join(' ')}`),
      progress: (e) => {
        // The plan is the first thing a user reads; in --json it is part of the result instead.
        if (e.type === 'plan' && !ctx.json && !opts.dryRun)
          process.stdout.write(`${colourPlan(renderPlan(e.plan), paletteFor(process.stdout))}\n`);
        bars.sink(e);
      },
      stopProgress: bars.stop,
      hostKeyPregenerated: (name) => process.stderr.write(`${name}: host key pre-generated\n`),
    },
    after,
  ).finally(bars.stop);
  // After `remove` deleted its files, "Nothing to do" (no domain left to destroy) would read as a lie.
  report(ctx, opts, outcome.result, outcome.sshConfig, after !== undefined);
  return outcome;
}

function report(
  ctx: CliContext,
  opts: GoalOptions,
  result: RunResult,
  sshConfig: string,
  didMore: boolean,
): void {
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
  if (!planHasWork(result.plan) && failed.length === 0 && !didMore)
    lines.push('Nothing to do: every agent is as declared.');
  for (const o of result.outcomes) {
    lines.push(
      o.ok
        ? `${o.agent}: ok (${o.steps.join(', ') || 'no steps'})${(o.deleted ?? []).map((f) => `\n  deleted ${f}`).join('')}`
        : `${o.agent}: FAILED\n  ${o.error?.replace(/\n/g, '\n  ')}`,
    );
  }
  if (opts.goal === 'up' && failed.length < result.outcomes.length) {
    lines.push('', `Connect with: fleet ssh <name>   (or: ssh -F ${sshConfig} <name>)`);
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
