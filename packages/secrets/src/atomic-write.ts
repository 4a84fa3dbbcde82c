import { randomBytes } from 'node:crypto';
import { closeSync, fsync, openSync, rmSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
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

/**
 * Replaces `path` so readers see either the old or the new content, never a partial file: write a
 * temp file beside it (same filesystem, so rename is atomic), flush it, rename over, then flush the
 * directory. A caller replacing many files in one directory passes `syncDir: false` and calls
 * syncDirectory once at the end: still one fsync per file before its rename (a crash never leaves
 * a renamed-but-empty file), and one for the directory.
 *
 * The small steps (open, write, close) are synchronous: on a few KiB they take microseconds, and
 * each async one would be a thread-pool round trip. Only the fsync and the rename, which wait on
 * the disk, leave the main thread.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode = 0o644,
  { syncDir = true }: { syncDir?: boolean } = {},
): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', mode);
  let open = true;
  try {
    writeFileSync(fd, data);
    await fsyncAsync(fd);
    closeSync(fd);
    open = false;
    await rename(temp, path);
  } catch (err) {
    if (open) closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  if (syncDir) await syncDirectory(dirname(path));
}
