// The built `fleet` CLI on a terminal, as a person runs it: in a pty driven by python3's pty module, or in a tmux
// pane whose every byte is recorded.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleetMain } from './fleet-cli.js';

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

const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const pause = () => new Promise((r) => setTimeout(r, 200));

/** What `fleetInTmux`'s `during` may do while the command runs. */
export interface TmuxPane {
  /** Every byte drawn so far. */
  read(): string;
  /** Waits until what was drawn matches. */
  until(pattern: RegExp): Promise<void>;
  /** Types keys into the pane (tmux send-keys names, e.g. 'C-c'). */
  keys(...keys: string[]): void;
}

/**
 * Runs `fleet --dir DIR ARGS` in a 160x40 tmux pane named `name` (unique per test run), its transcript in
 * `<dir>/<name>.log`; `during` may act on the pane while it runs. The shell around the command ignores SIGINT, so it
 * survives a Ctrl-C and prints the command's exit code (`EXIT=n`; fleet installs its own SIGINT handler). Returns
 * the transcript (every byte drawn), the screen as it stands at the end, and the exit code.
 */
export async function fleetInTmux(
  dir: string,
  name: string,
  args: string,
  during: (pane: TmuxPane) => Promise<void> = async () => {},
): Promise<{ transcript: string; screen: string; exit: string | undefined }> {
  const log = join(dir, `${name}.log`);
  const command = `trap '' INT; ${process.execPath} ${fleetMain} --dir ${dir} ${args}; echo EXIT=$?; sleep 600`;
  tmux('new-session', '-d', '-s', name, '-x', '160', '-y', '40', 'sh', '-c', `sleep 0.5; ${command}`);
  try {
    tmux('pipe-pane', '-t', name, '-o', `cat >> ${log}`);
    const read = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
    const until = async (pattern: RegExp) => {
      while (!pattern.test(read())) await pause();
    };
    await during({ read, until, keys: (...keys) => tmux('send-keys', '-t', name, ...keys) });
    await until(/EXIT=\d+/);
    const transcript = read();
    return {
      transcript,
      // The pane may be gone already (a shell that did not survive a Ctrl-C): then no screen.
      screen: spawnSync('tmux', ['capture-pane', '-p', '-t', name], { encoding: 'utf8' }).stdout ?? '',
      exit: /EXIT=(\d+)/.exec(transcript)?.[1],
    };
  } finally {
    spawnSync('tmux', ['kill-session', '-t', name]);
  }
}
