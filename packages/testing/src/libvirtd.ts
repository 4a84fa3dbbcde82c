import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot, run } from './exec.js';

export const systemUri = 'qemu:///system';

/**
 * Makes sure a libvirtd answers on `uri`, starting it via scripts/libvirtd-up.sh when it does
 * not and we are root; otherwise a clear error.
 */
export async function ensureLibvirtd(uri = systemUri): Promise<void> {
  try {
    await run('virsh', ['-c', uri, 'version']);
    return;
  } catch (err) {
    if (process.getuid?.() !== 0) {
      throw new Error(
        `libvirtd is not reachable on ${uri} and only root can start it here: run scripts/libvirtd-up.sh as root (${(err as Error).message})`,
      );
    }
  }
  await run(path.join(repoRoot, 'scripts/libvirtd-up.sh'), []);
  await run('virsh', ['-c', uri, 'version']);
}

/** Where scripts/libvirtd-up.sh records the daemon's pid. */
const LIBVIRTD_PID_FILE = '/run/libvirtd.pid';

/**
 * Restarts the libvirtd that scripts/libvirtd-up.sh started (SIGTERM, then the script again):
 * running domains keep running, every open connection sees EOF. The daemon is shared, so the gap
 * is kept as short as the daemon allows.
 */
export async function restartLibvirtd(): Promise<void> {
  const pid = Number((await readFile(LIBVIRTD_PID_FILE, 'utf8').catch(() => '')).trim());
  if (!pid || process.getuid?.() !== 0) {
    throw new Error(
      `restarting libvirtd needs root and a daemon started by scripts/libvirtd-up.sh (${LIBVIRTD_PID_FILE})`,
    );
  }
  process.kill(pid, 'SIGTERM');
  const gone = () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  };
  while (!gone()) await new Promise((r) => setTimeout(r, 20));
  await run(path.join(repoRoot, 'scripts/libvirtd-up.sh'), []);
}
