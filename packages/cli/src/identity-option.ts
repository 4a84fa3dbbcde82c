import type { Command } from 'commander';

export const collectIdentity = (value: string, previous: string[]) => [...previous, value];
export const IDENTITY_HELP =
  'admin identity that decrypts secrets (repeatable; default: adminIdentity in agents/fleet.yaml, else ~/.ssh/id_ed25519, ~/.ssh/id_rsa and the fleet login key)';

/** `-i FILE` (repeatable) on every command that decrypts or rekeys secrets. */
export function identityOption(command: Command): Command {
  return command.option('-i, --identity <file>', IDENTITY_HELP, collectIdentity, []);
}
