import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface LockHolder {
  pid: number;
  command: string;
  startedAt: string;
}

export class FleetLockedError extends Error {
  constructor(
    readonly path: string,
    readonly holder: LockHolder,
  ) {
    super(
      `another fleet command is running: pid ${holder.pid} (\`${holder.command}\`, since ${holder.startedAt}); ` +
        `wait for it or, if that process is gone, remove ${path}`,
    );
    this.name = 'FleetLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One mutating command at a time per state dir. The lock file names its holder so the
 * refusal can say who; a holder that died (SIGKILL, crash) leaves a stale file that the next
 * run takes over, which is what makes a killed `fleet up` resumable.
 */
export async function acquireLock(path: string, command: string): Promise<() => Promise<void>> {
  const me: LockHolder = { pid: process.pid, command, startedAt: new Date().toISOString() };
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      await fh.writeFile(`${JSON.stringify(me)}\n`);
      await fh.close();
      return async () => {
        await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readHolder(path);
    if (holder && alive(holder.pid)) throw new FleetLockedError(path, holder);
    // Stale (holder gone, or file torn by a kill during the write): take it over.
    await unlink(path).catch(() => {});
  }
  throw new Error(`could not acquire ${path}`);
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number') return undefined;
    return {
      pid: parsed.pid,
      command: String(parsed.command ?? '?'),
      startedAt: String(parsed.startedAt ?? '?'),
    };
  } catch {
    return undefined;
  }
}
