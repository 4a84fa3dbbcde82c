// Test support: make sure a libvirtd serves qemu:///system before integration tests run.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { open } from './connection.js';

const upScript = fileURLToPath(new URL('../../../scripts/libvirtd-up.sh', import.meta.url));

/** Starts libvirtd with the repo's script when running as root (idempotent); then proves it answers. */
export async function ensureLibvirtd(uri = 'qemu:///system'): Promise<void> {
  if (process.getuid?.() === 0) execFileSync('sh', [upScript], { stdio: 'pipe' });
  const c = await open(uri).catch((err: unknown) => {
    throw new Error(`no libvirtd at ${uri} (run scripts/libvirtd-up.sh as root): ${(err as Error).message}`);
  });
  await c.close();
}
