import type { AgentConnector, AgentShell } from '@agentfleet/core';

/** What the day-2 workflows need to reach an agent over fleet's pinned SSH. */
export interface AgentShells {
  connector: AgentConnector;
  /** The host key recorded for the agent (state.json), undefined when it never answered SSH. */
  pinnedKey(agent: string): Promise<string | undefined>;
}

export class NeverReachedError extends Error {
  override name = 'NeverReachedError';
  constructor(readonly agent: string) {
    super(`agent ${agent} has never answered SSH, so no host key is pinned; run \`fleet up ${agent}\``);
  }
}

/** A session with the agent that accepts only its pinned host key. */
export async function pinnedShell(
  shells: AgentShells,
  agent: string,
  opts: { waitReady?: boolean } = {},
): Promise<AgentShell> {
  const pinnedHostKey = await shells.pinnedKey(agent);
  if (pinnedHostKey === undefined) throw new NeverReachedError(agent);
  return shells.connector.connect(agent, { pinnedHostKey, ...(opts.waitReady && { waitReady: true }) });
}

/** Runs one command in a fresh session and returns its exit code and collected stdout. */
export async function runOnce(
  shells: AgentShells,
  agent: string,
  command: string,
  opts: { waitReady?: boolean } = {},
): Promise<{ code: number; stdout: string }> {
  const shell = await pinnedShell(shells, agent, opts);
  try {
    let stdout = '';
    const code = await shell.exec(command, (chunk, stream) => {
      if (stream === 'stdout') stdout += chunk;
    });
    return { code, stdout };
  } finally {
    await shell.close();
  }
}
