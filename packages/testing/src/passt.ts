import { readdirSync, readFileSync } from 'node:fs';

/**
 * Stops the passt of each named agent (found by its socket path, `.../run/agent-<name>/passt.sock`,
 * or confined: `/run/agentfleet-passt/<fleet>-agent-<name>.sock`): for suites that remove their
 * domains with virsh, which leaves the passt fleet started running.
 */
export function stopPassts(agents: readonly string[]): void {
  const suffixes = agents.flatMap((a) => [`/run/agent-${a}/passt.sock`, `-agent-${a}.sock`]);
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const socket = argv[argv.indexOf('--socket') + 1] ?? '';
    if (!(argv[0] ?? '').endsWith('passt') || !suffixes.some((s) => socket.endsWith(s))) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {}
  }
}
