import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The state dir and its directories: only the fleet's user may list or enter them. */
export const PRIVATE_DIR_MODE = 0o700;
/** Disks (they hold the guests' host keys), keys, logs, state: only the fleet's user may read them. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates the state dir if needed and makes it and everything in it private: directories 0700,
 * regular files 0600. Run at the start of every run that takes the lock, so a fleet made by an
 * older fleet (0755 dirs, 0644 disks) is tightened on its next run, not only its new files.
 *
 * Only what the fleet's user owns is changed: a disk libvirt has handed to another QEMU user
 * (qemu:///system with dynamic_ownership) or a socket of a helper under its own uid is left as
 * its owner set it. Symlinks are not followed.
 */
export async function securePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await tighten(dir, process.getuid?.());
}

async function tighten(path: string, uid: number | undefined): Promise<void> {
  const st = await lstat(path).catch(() => undefined); // gone meanwhile: nothing to protect
  if (st === undefined || (uid !== undefined && st.uid !== uid)) return;
  if (st.isDirectory()) {
    if ((st.mode & 0o777) !== PRIVATE_DIR_MODE) await chmod(path, PRIVATE_DIR_MODE);
    for (const name of await readdir(path).catch(() => [])) await tighten(join(path, name), uid);
  } else if (st.isFile() && (st.mode & 0o777) !== PRIVATE_FILE_MODE) {
    await chmod(path, PRIVATE_FILE_MODE);
  }
}
