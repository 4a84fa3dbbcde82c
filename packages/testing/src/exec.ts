import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Repository root, for the scripts the harness runs. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface RunError extends Error {
  exitCode: number | string | undefined;
  stdout: string;
  stderr: string;
}

/** Runs a program and resolves with its stdout; the rejection carries exit code and output so failures explain themselves. */
export function run(file: string, args: string[], opts: { input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const error = new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stderr}`) as RunError;
        reject(Object.assign(error, { exitCode: err.code ?? undefined, stdout, stderr }));
      } else {
        resolve(stdout);
      }
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
