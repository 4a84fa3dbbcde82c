// A command in a real terminal (a tmux pane: a pty with a screen), driven by keys the way a user types
// them: for prompts (Proceed? [y/N]), interactive sessions (fleet console) and live views (status --watch).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** When `when` has appeared in the terminal's output, type `keys` (tmux send-keys names: 'y', 'Enter', 'C-c', 'C-]'). */
export interface TerminalStep {
  when: RegExp;
  keys: string[];
}

export interface TerminalRun {
  /** Everything the command wrote to the terminal, escape sequences included. */
  transcript: string;
  code: number;
}

const quote = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;

/**
 * Runs `argv` in a fresh tmux session (160x40), types each step's keys once its pattern shows, and
 * resolves when the command exits. Rejects with the transcript's tail if a pattern or the exit does not
 * come within `timeoutMs` (a generous bound: it measures nothing).
 */
export async function inTerminal(
  argv: string[],
  steps: TerminalStep[],
  timeoutMs = 120_000,
): Promise<TerminalRun> {
  const dir = mkdtempSync(join(tmpdir(), 'agentfleet-terminal-'));
  const log = join(dir, 'pane.log');
  const session = `af-${process.pid}-${Math.floor(Math.random() * 36 ** 6).toString(36)}`;
  const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
  // The pane's shell reports the exit code, then stays until the session is killed (a pane that closes
  // takes its last output with it). It ignores SIGINT, so a Ctrl-C reaches only the command.
  const command = `sleep 0.5; trap '' INT; ${argv.map(quote).join(' ')}; echo "EXIT=$?"; sleep 600`;
  tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '40', 'sh', '-c', command);
  const read = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  const deadline = Date.now() + timeoutMs;
  const until = async (pattern: RegExp) => {
    while (!pattern.test(read())) {
      if (Date.now() > deadline)
        throw new Error(`terminal: no ${pattern} within ${timeoutMs} ms; it showed:\n${read().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  try {
    tmux('pipe-pane', '-t', session, '-o', `cat >> ${quote(log)}`);
    for (const step of steps) {
      await until(step.when);
      tmux('send-keys', '-t', session, ...step.keys);
    }
    await until(/EXIT=\d+/);
    const transcript = read();
    return { transcript, code: Number(/EXIT=(\d+)/.exec(transcript)?.[1]) };
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session]);
    rmSync(dir, { recursive: true, force: true });
  }
}
