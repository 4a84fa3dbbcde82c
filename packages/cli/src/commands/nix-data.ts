import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENTS_JSON_PATH, agentsJson, type Fleet } from '@agentfleet/core';
import { writeFileAtomic } from '../atomic-write.js';
import type { CliContext } from '../context.js';

/** Regenerates hosts/agents.json (what the flake and secrets.nix read) when the repo has one. */
export function regenerateAgentsJson(ctx: CliContext, fleet: Fleet): void {
  const path = join(ctx.dir, AGENTS_JSON_PATH);
  if (!existsSync(join(ctx.dir, 'hosts'))) return;
  writeFileAtomic(path, agentsJson(fleet.agents));
  ctx.log.info({ file: AGENTS_JSON_PATH }, 'regenerated');
}
