import { readdirSync, readFileSync } from 'node:fs';

/**
 * Stops the passt of each named agent (found by its socket path, `.../run/agent-<name>/passt.sock`,
 * or confined: `/run/agentfleet-passt/<fleet>-agent-<name>.sock`): for suites that remove their
 * domains with virsh, which leaves the passt fleet started running.
 */
export function stopPassts(agents: readonly string[]): void {
  for (const pid of passtPidsOf(agents)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}

/** The passt processes fleet started for the named agents (found by their socket path, confined or not). */
export function passtPidsOf(agents: readonly string[]): number[] {
  const suffixes = agents.flatMap((a) => [`/run/agent-${a}/passt.sock`, `-agent-${a}.sock`]);
  return readdirSync('/proc').flatMap((pid) => {
    if (!/^\d+$/.test(pid)) return [];
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      return [];
    }
    const socket = argv[argv.indexOf('--socket') + 1] ?? '';
    return (argv[0] ?? '').endsWith('passt') && suffixes.some((s) => socket.endsWith(s)) ? [Number(pid)] : [];
  });
}
