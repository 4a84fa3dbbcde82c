// The one atomic file writer of agentfleet (engine, secrets, app and cli all write through it).
import { randomBytes } from 'node:crypto';
import { closeSync, fsync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const fsyncAsync = promisify(fsync);

/**
 * Makes the renames in `dir` durable: after a rename, the directory entry is only on disk once the
 * directory itself is flushed. One call covers every rename done in it before.
 */
export async function syncDirectory(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A new version of `path`, written to a temp file beside it and not yet renamed over it. */
export interface PendingFile {
  path: string;
  temp: string;
  fd: number | undefined;
}

/**
 * Step 1 of 3: create the temp file beside `path` (same filesystem, so the rename is atomic) and
 * write it. Synchronous: on a few KiB this takes microseconds.
 */
export function writeTemp(path: string, data: string | Uint8Array, mode: number): PendingFile {
  // `.<file>.<pid>.<8 hex>.tmp`: the flake upload skips these, and a run holding the state dir's
  // lock deletes those a killed run left (engine's stale-temps).
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const pending: PendingFile = { path, temp, fd: openSync(temp, 'wx', mode) };
  try {
    writeFileSync(pending.fd as number, data);
  } catch (err) {
    discardTemp(pending);
    throw err;
  }
  return pending;
}

/** Step 2: flush the temp file's data to disk (on the thread pool) and close it. */
export async function flushTemp(pending: PendingFile): Promise<void> {
  try {
    await fsyncAsync(pending.fd as number);
    closeSync(pending.fd as number);
    pending.fd = undefined;
  } catch (err) {
    discardTemp(pending);
    throw err;
  }
}

/**
 * Step 3: rename the flushed temp file over `path` (on the thread pool: replacing a file frees the
 * old one, which can wait on the journal). Durable once the directory is synced.
 */
export async function commitTemp(pending: PendingFile): Promise<void> {
  try {
    await rename(pending.temp, pending.path);
  } catch (err) {
    discardTemp(pending);
    throw err;
  }
}

export function discardTemp(pending: PendingFile): void {
  if (pending.fd !== undefined) closeSync(pending.fd);
  pending.fd = undefined;
  rmSync(pending.temp, { force: true });
}

/**
 * Replaces `path` so readers see either the old or the new content, never a partial file: write a
 * temp file beside it, fsync it, rename it over, fsync the directory. To replace many files, run
 * the steps in batches instead (as rekey does): all writes, then all fsyncs together, then all
 * renames, then one directory fsync. That keeps the crash-safe order for every file (its data is on
 * disk before its name points at it) while the journal commits that fsyncs force are shared.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  try {
    const pending = writeTemp(path, data, mode);
    await flushTemp(pending);
    await commitTemp(pending);
  } catch (err) {
    // Each step has removed its temp file already: whatever failed, no temp stays behind.
    throw named(err, path);
  }
  await syncDirectory(dirname(path));
}

/**
 * writeFileAtomic for callers between synchronous steps (the ledger, agent YAML, agents.json):
 * the same temp file, fsync, rename and directory fsync, without yielding to the event loop.
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, mode = 0o644): void {
  let pending: PendingFile | undefined;
  try {
    pending = writeTemp(path, data, mode);
    fsyncSync(pending.fd as number);
    closeSync(pending.fd as number);
    pending.fd = undefined;
    renameSync(pending.temp, pending.path);
  } catch (err) {
    if (pending) discardTemp(pending);
    throw named(err, path);
  }
  const fd = openSync(dirname(path), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fs errors of a write or rename name no file: the message then says which one could not be written. */
function named(err: unknown, path: string): unknown {
  if (err instanceof Error && !err.message.includes(path))
    err.message = `cannot write ${path}: ${err.message}`;
  return err;
}
