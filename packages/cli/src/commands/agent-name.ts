import { agentArgumentProblem } from '@agentfleet/core/names';
import { InvalidArgumentError } from 'commander';

// Names are names: every command taking an agent name checks it here, before any path is built
// from it (`fleet add ../../../../tmp/x` must never write outside agents/).

/** commander parser for one agent name argument. */
export function agentName(value: string): string {
  const problem = agentArgumentProblem(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value;
}

/** commander parser for a variadic list of agent names. */
export function agentNames(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), agentName(value)];
}
