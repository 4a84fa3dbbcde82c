import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentRuntime } from '@agentfleet/core';

/** The host key committed for `agent` in the fleet repository (secrets/hosts/NAME.pub), if any. */
export async function committedHostKey(fleetDir: string, agent: string): Promise<string | undefined> {
  const line = await readFile(join(fleetDir, 'secrets', 'hosts', `${agent}.pub`), 'utf8').catch(() => '');
  return line.trim() || undefined;
}

/**
 * The key the agent must present: the one in state.json; without one, the key committed in the fleet repository,
 * unless fleet itself recorded making the agent's current disk (then the guest is new and pinned at first contact).
 * One rule for the SSH wait and for known_hosts, so a lost state.json unpins neither.
 */
export async function pinnedHostKey(
  record: AgentRuntime | undefined,
  committed: (() => Promise<string | undefined>) | undefined,
): Promise<string | undefined> {
  if (record?.hostKey !== undefined) return record.hostKey;
  if (record?.disk !== undefined) return undefined;
  return committed?.();
}
