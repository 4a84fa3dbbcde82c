// A command in a real terminal (a tmux pane: a pty with a screen), driven by keys the way a user types
// them: for prompts (Proceed? [y/N]), interactive sessions (fleet console) and live views (status --watch).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetMain } from './fleet-cli.js';

/** When `when` has appeared in the terminal's output, type `keys` (tmux send-keys names: 'y', 'Enter', 'C-c', 'C-]'). */
export interface TerminalStep {
  when: RegExp;
  keys: string[];
}

export interface TerminalRun {
  /** Everything the command wrote to the terminal, escape sequences included. */
  transcript: string;
  /** The screen as it stood when the command had exited (what a person sees then). */
  screen: string;
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
    const screen = tmux('capture-pane', '-p', '-t', session);
    return { transcript, screen, code: Number(/EXIT=(\d+)/.exec(transcript)?.[1]) };
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session]);
    rmSync(dir, { recursive: true, force: true });
  }
}

// The same through python3's pty module, for a session that talks back to the command byte by byte.

/** The default pty session: read what the command prints until it exits. */
const READ_TO_END = `while True:
    try:
        d = os.read(fd, 4096)
    except OSError:
        break
    if not d:
        break
    out += d`;

/**
 * Runs `fleet --dir DIR ARGS` with a pty as its terminal. `session` is Python run once the command started: it
 * talks to the command through `fd` and collects what it printed in the bytes `out` (modules os, select, sys and
 * time are imported); by default it reads until the command exits. Resolves with the exit code and `out`.
 */
export function fleetInPty(
  dir: string,
  args: string[],
  session = READ_TO_END,
): Promise<{ code: number | null; out: string }> {
  const driver = `import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b''
${session}
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf8', 'replace'))
sys.exit(os.waitstatus_to_exitcode(status))
`;
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', driver, process.execPath, fleetMain, '--dir', dir, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}
