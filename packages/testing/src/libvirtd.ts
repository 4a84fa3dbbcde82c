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
