import type { Fleet } from '@agentfleet/core';
import { UnknownAgentError } from '../fleet-run.js';

/** Which agents a fan-out command (`exec`) acts on: named ones, every one, or those with a tag. */
export interface AgentSelection {
  names: readonly string[];
  all?: boolean;
  tag?: string;
}

export class SelectionError extends Error {
  override name = 'SelectionError';
}

/** The agents a selection means, in the fleet's order; exactly one way of selecting must be used. */
export function selectAgents(fleet: Fleet, sel: AgentSelection): string[] {
  const ways = [sel.names.length > 0, sel.all === true, sel.tag !== undefined].filter(Boolean).length;
  if (ways !== 1) throw new SelectionError('name the agents, or use --all, or --tag T (exactly one of them)');
  const known = fleet.agents.map((a) => a.name);
  if (sel.all) return known;
  if (sel.tag !== undefined) {
    const tagged = fleet.agents.filter((a) => a.tags.includes(sel.tag as string)).map((a) => a.name);
    if (tagged.length === 0) {
      const tags = [...new Set(fleet.agents.flatMap((a) => a.tags))].sort();
      throw new SelectionError(
        `no agent has the tag '${sel.tag}' (tags in use: ${tags.join(', ') || 'none'}; set tags: [..] in agents/<name>.yaml)`,
      );
    }
    return tagged;
  }
  for (const n of sel.names) if (!known.includes(n)) throw new UnknownAgentError(n, known);
  return [...new Set(sel.names)];
}
