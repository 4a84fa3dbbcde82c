import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Runs a helper program (cp, qemu-img) that dies with fleet, however fleet ends: exit, Ctrl-C, or
 * SIGKILL, which leaves no chance to clean up. util-linux's setpriv asks the kernel for
 * PR_SET_PDEATHSIG=KILL and then execs the program, so a copy never goes on writing in the
 * background of a killed run. (A fleet killed in the instant between fork and that prctl still
 * leaves the child; the next run discards its temp file.)
 */
export function runTied(file: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return run('setpriv', ['--pdeathsig', 'KILL', '--', file, ...args]);
}
