import { createInterface } from 'node:readline/promises';
import type { Plan } from '@agentfleet/core';
import { UsageError } from '../errors.js';

/** What a destructive command will delete, one line per thing, from the plan it will apply. */
export function deletionList(plan: Plan, extra: readonly string[] = []): string[] {
  const lines = plan.actions
    .filter((a) => a.kind === 'delete')
    .flatMap((a) => a.reasons.filter((r) => /^(undefine|delete) /.test(r)).map((r) => `${a.agent}: ${r}`));
  return [...lines, ...extra];
}

/**
 * The engine's `confirm` for destroy/remove: yes with `--yes`; on a terminal, ask; otherwise
 * refuse (exit 2), so a script never deletes by accident.
 */
export function confirmDeletion(
  command: string,
  yes: boolean,
  extra: readonly string[] = [],
): (plan: Plan) => Promise<boolean> {
  return async (plan) => {
    const list = deletionList(plan, extra);
    if (list.length === 0 || yes) return true;
    const shown = list.map((l) => `  ${l}`).join('\n');
    if (!process.stdin.isTTY || !process.stderr.isTTY) {
      throw new UsageError(
        `${command} would delete:\n${shown}\nnot a terminal, so not asking: run again with --yes to confirm`,
      );
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`${command} will delete:\n${shown}\nProceed? [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  };
}
