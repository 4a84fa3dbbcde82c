import {
  type AgentConnector,
  type ProvisionStore,
  parsePublicKeyLine,
  publicKeyLine,
} from '@agentfleet/core';

export interface UserKeyTarget {
  agent: string;
  /** The agent's Unix user (validated as a user name by the schema, so safe in `~user`). */
  user: string;
  /** The SSH login is not root: the user's ~/.ssh (0700) is read through sudo. */
  sudo: boolean;
}

/**
 * The agent user's own SSH public key (generated in the VM on first boot, hosts/common/user-key.nix),
 * read over SSH pinned to the agent's recorded host key: what a person adds to GitHub.
 */
export async function readAgentUserKey(
  connector: AgentConnector,
  store: Pick<ProvisionStore, 'pinnedHostKey'>,
  t: UserKeyTarget,
): Promise<string> {
  const pinned = await store.pinnedHostKey(t.agent);
  if (pinned === undefined)
    throw new Error(`${t.agent} has never answered SSH: run fleet up ${t.agent} first`);
  const path = `~${t.user}/.ssh/id_ed25519.pub`;
  const shell = await connector.connect(t.agent, { pinnedHostKey: pinned });
  try {
    let out = '';
    let err = '';
    const code = await shell.exec(`${t.sudo ? 'sudo ' : ''}cat ${path}`, (chunk, stream) => {
      if (stream === 'stdout') out += chunk;
      else err += chunk;
    });
    if (code !== 0) {
      throw new Error(
        `${t.agent}: cannot read ${path} (${err.trim() || `exit ${code}`}); the key is made on the first boot of the agent's own configuration (agentfleet-user-ssh-key.service)`,
      );
    }
    return publicKeyLine(parsePublicKeyLine(out.trim()));
  } finally {
    await shell.close();
  }
}
