import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface LockHolder {
  pid: number;
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat field 22): tells a reused pid apart. */
  pidStart?: number;
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

/** A process's start time from /proc, or undefined where there is no /proc (or no such process). */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/** Alive means: the pid exists and, where the holder recorded its start time, it is the same process. */
function holderAlive(holder: Pick<LockHolder, 'pid' | 'pidStart'>): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (holder.pidStart === undefined) return true;
  const start = processStartTime(holder.pid);
  return start === undefined || start === holder.pidStart;
}

const sameHolder = (a: LockHolder, b: LockHolder) => a.pid === b.pid && a.pidStart === b.pidStart;

/**
 * Creates `path` holding `text`, complete or not at all: the text goes to a temp file first, which is then
 * hard-linked to `path` (link fails with EEXIST when `path` exists, like O_EXCL). Returns false on EEXIST.
 */
async function createComplete(path: string, text: string): Promise<boolean> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(text);
    await fh.sync();
    await fh.close();
    await link(tmp, path);
    return true;
  } catch (err) {
    await fh.close().catch(() => {});
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/**
 * One mutating command at a time per state dir. The lock file names its holder (pid and process start time) so
 * the refusal can say who; a holder that provably died (SIGKILL, crash) leaves a stale file that the next run takes
 * over, which is what makes a killed `fleet up` resumable.
 *
 * Takeover cannot let two takers win: removing a stale generation needs its reap token (`<path>.<pid>-<start>.reap`,
 * created exclusively), so only one taker removes it; whoever then creates the lock file first holds it.
 */
export async function acquireLock(path: string, command: string): Promise<() => Promise<void>> {
  const me: LockHolder = {
    pid: process.pid,
    ...optionalStart(processStartTime(process.pid)),
    command,
    startedAt: new Date().toISOString(),
  };
  const text = `${JSON.stringify(me)}\n`;
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createComplete(path, text)) return () => releaseLock(path, me);
    const holder = await readHolder(path);
    if (holder === 'gone') continue;
    if (holder !== 'unreadable' && holderAlive(holder)) throw new FleetLockedError(path, holder);
    await reap(path, holder);
  }
  const holder = await readHolder(path);
  if (typeof holder === 'object') throw new FleetLockedError(path, holder);
  throw new Error(`could not take the lock ${path}: it keeps changing; is another fleet starting?`);
}

/** Removes the stale lock generation `stale`, unless another taker is already doing so. */
async function reap(path: string, stale: LockHolder | 'unreadable'): Promise<void> {
  const generation = stale === 'unreadable' ? 'unreadable' : `${stale.pid}-${stale.pidStart ?? 'x'}`;
  const token = `${path}.${generation}.reap`;
  const me: LockHolder = {
    pid: process.pid,
    ...optionalStart(processStartTime(process.pid)),
    command: 'reap',
    startedAt: new Date().toISOString(),
  };
  if (!(await createComplete(token, JSON.stringify(me)))) {
    // Another taker reaps this generation; if it died doing so, its token is stale too and goes.
    const reaper = await readHolder(token);
    if (typeof reaper === 'object' && !holderAlive(reaper)) await unlink(token).catch(() => {});
    return;
  }
  try {
    // Only the token's holder removes this generation, so the file is still the one judged stale unless it was
    // released and re-created meanwhile: then it is left alone.
    const now = await readHolder(path);
    const still =
      stale === 'unreadable' ? now === 'unreadable' : typeof now === 'object' && sameHolder(now, stale);
    if (still) await unlink(path).catch(() => {});
  } finally {
    await unlink(token).catch(() => {});
  }
}

async function releaseLock(path: string, me: LockHolder): Promise<void> {
  // Only our own lock: a file that is no longer ours (removed by hand, taken over) is someone else's now.
  const holder = await readHolder(path);
  if (typeof holder === 'object' && sameHolder(holder, me)) await unlink(path).catch(() => {});
}

const optionalStart = (pidStart: number | undefined) => (pidStart === undefined ? {} : { pidStart });

async function readHolder(path: string): Promise<LockHolder | 'gone' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number') return 'unreadable';
    return {
      pid: parsed.pid,
      ...optionalStart(typeof parsed.pidStart === 'number' ? parsed.pidStart : undefined),
      command: String(parsed.command ?? '?'),
      startedAt: String(parsed.startedAt ?? '?'),
    };
  } catch {
    // Lock files are created complete (link of a written temp file), so a torn one is a leftover of an older
    // fleet killed mid-write, or damage: its holder is not identifiable, and it is treated as stale.
    return 'unreadable';
  }
}
