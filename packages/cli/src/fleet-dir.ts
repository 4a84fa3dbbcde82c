import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './errors.js';

/** `--dir DIR`, or the nearest ancestor of cwd that contains agents/fleet.yaml. */
export function findFleetDir(explicit: string | undefined, cwd = process.cwd()): string {
  if (explicit !== undefined) {
    const dir = resolve(cwd, explicit);
    if (!existsSync(join(dir, 'agents', 'fleet.yaml'))) {
      throw new UsageError(
        `--dir ${explicit}: no agents/fleet.yaml in ${dir}`,
        'point --dir at a fleet repository (the directory holding agents/fleet.yaml), e.g. a clone of agentfleet',
      );
    }
    return dir;
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'agents', 'fleet.yaml'))) return dir;
    if (dirname(dir) === dir) break;
  }
  throw new UsageError(
    `no agents/fleet.yaml in ${cwd} or any parent directory`,
    'run fleet inside a fleet repository (one with agents/fleet.yaml, e.g. a clone of agentfleet), or pass --dir DIR',
  );
}
