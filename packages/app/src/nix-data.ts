import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync as writeFileAtomic } from '@agentfleet/atomic-file';
import type { Diagnostic, Fleet } from '@agentfleet/core';
import { AGENTS_JSON_PATH, agentsJson } from '@agentfleet/core/nix/agents-json';
import type { AppContext } from './context.js';

/**
 * hosts/agents.json (what the flake and secrets.nix read) as the YAML says it should be, or
 * undefined when the repo has no hosts/ (no Nix side to feed) or the file already says it.
 */
function staleAgentsJson(ctx: AppContext, fleet: Fleet): string | undefined {
  if (!existsSync(join(ctx.dir, 'hosts'))) return undefined;
  const path = join(ctx.dir, AGENTS_JSON_PATH);
  const text = agentsJson(fleet.agents);
  return existsSync(path) && readFileSync(path, 'utf8') === text ? undefined : text;
}

/**
 * Brings hosts/agents.json in line with agents/*.yaml: an agent added or edited by hand must not
 * provision with a stale file (nixos-rebuild would not find agent-<name>). Untouched when equal.
 */
export function regenerateAgentsJson(ctx: AppContext, fleet: Fleet): void {
  const text = staleAgentsJson(ctx, fleet);
  if (text === undefined) return;
  writeFileAtomic(join(ctx.dir, AGENTS_JSON_PATH), text);
  ctx.log.info({ file: AGENTS_JSON_PATH }, 'regenerated');
}

/** `fleet validate`'s check that hosts/agents.json follows the YAML. */
export function agentsJsonDiagnostics(ctx: AppContext, fleet: Fleet): Diagnostic[] {
  if (staleAgentsJson(ctx, fleet) === undefined) return [];
  return [
    {
      file: AGENTS_JSON_PATH,
      line: 0,
      column: 0,
      path: '',
      message:
        'out of sync with agents/*.yaml; regenerate it with `fleet allocate` (fleet up, provision and rebuild also do)',
    },
  ];
}
