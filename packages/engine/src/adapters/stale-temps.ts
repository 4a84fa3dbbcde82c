import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** The temp names fleet's atomic writers use: `.<file>.<pid>.<8 hex>.tmp`, beside the file they replace. */
const TEMP = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** Whether a process with this pid exists (EPERM: it does, and is another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp files left in `dir` by a fleet that died between writing and renaming them (SIGKILL, full disk).
 * Called under the state dir's lock, so no live fleet is writing there; a temp whose writer still runs is kept.
 * Returns the names removed.
 */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return []; // no state dir yet
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m || processAlive(Number(m[2]))) continue;
    await unlink(join(dir, name)).then(
      () => removed.push(name),
      () => undefined,
    );
  }
  return removed;
}
