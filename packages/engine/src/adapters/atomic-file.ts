import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to `path` so that a reader (or a run killed half-way) sees either the old
 * content or the new one, never a torn file: temp file in the same directory, fsync, rename.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode).catch((err: unknown) => {
    throw named(err, path);
  });
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    // Whatever failed (a full disk, a rename refused), no temp file stays behind.
    await unlink(tmp).catch(() => {});
    throw named(err, path);
  }
}

/** fs errors of a write or rename name no file: the message then says which one could not be written. */
function named(err: unknown, path: string): unknown {
  if (err instanceof Error && !err.message.includes(path))
    err.message = `cannot write ${path}: ${err.message}`;
  return err;
}
