import path from 'node:path';
import { repoRoot, run } from './exec.js';

export const systemUri = 'qemu:///system';

/** Makes sure a libvirtd answers on qemu:///system, starting it via scripts/libvirtd-up.sh when we are root. */
export async function ensureLibvirtd(): Promise<void> {
  try {
    await run('virsh', ['-c', systemUri, 'version']);
    return;
  } catch (err) {
    if (process.getuid?.() !== 0) {
      throw new Error(
        `libvirtd is not reachable on ${systemUri} and only root can start it here: run scripts/libvirtd-up.sh as root (${(err as Error).message})`,
      );
    }
  }
  await run(path.join(repoRoot, 'scripts/libvirtd-up.sh'), []);
}
