/**
 * Agent names end up as a hostname label (`agent-<name>`), a libvirt domain name, a file
 * name and a Unix user, so they take the intersection: lower-case letter first, then letters,
 * digits and single inner '-', at most 31 characters (Unix user names max out at 32).
 */
export const AGENT_NAME_PATTERN = '^[a-z](?:[a-z0-9-]{0,29}[a-z0-9])?$';
const AGENT_NAME_RE = new RegExp(AGENT_NAME_PATTERN);

/** Unix user names inside the guest; same shape as agent names plus '_'. */
export const UNIX_USER_PATTERN = '^[a-z_][a-z0-9_-]{0,30}$';
const UNIX_USER_RE = new RegExp(UNIX_USER_PATTERN);

/** Secret names become `secrets/<name>.age` and Nix attribute names. */
export const SECRET_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$';

/**
 * Names that would collide with something that already exists: system users in the guest,
 * the files next to agent files (agents/fleet.yaml, agents/ledger.yaml) and the flake's
 * `agent-base` image configuration.
 */
const RESERVED_AGENT_NAMES = new Set([
  'base',
  'fleet',
  'ledger',
  'root',
  'daemon',
  'bin',
  'sys',
  'sync',
  'nobody',
  'nogroup',
  'admin',
  'sshd',
  'messagebus',
  'nixbld',
  'polkituser',
  'systemd',
]);

/** Why `name` cannot be an agent name, or undefined when it can. */
export function agentNameProblem(name: string): string | undefined {
  if (!AGENT_NAME_RE.test(name)) {
    return `'${name}' is not a valid agent name: use 1-31 lower-case letters, digits and inner '-', starting with a letter`;
  }
  if (name.includes('--')) return `'${name}' is not a valid agent name: '--' is not allowed`;
  if (RESERVED_AGENT_NAMES.has(name)) return `'${name}' is reserved and cannot be an agent name`;
  return undefined;
}

/**
 * Why a name given on the command line cannot be an agent's: the same rule as in agents/, with a
 * plain word for the path-like names that would walk out of agents/ or the state dir.
 */
export function agentArgumentProblem(name: string): string | undefined {
  if (/[/\\\0]|\.\./.test(name) || name === '.') {
    return `'${name}' is a path, not an agent name: agent names have no '/', '\\' or '..'`;
  }
  return agentNameProblem(name);
}

/** Why `user` cannot be the agent's Unix user, or undefined when it can. */
export function unixUserProblem(user: string): string | undefined {
  if (!UNIX_USER_RE.test(user)) return `'${user}' is not a valid Unix user name`;
  if (RESERVED_AGENT_NAMES.has(user) && user !== 'admin') return `'${user}' is a system user`;
  return undefined;
}
