import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot, run } from './exec.js';

export interface TestImage {
  dir: string;
  /** BIOS-bootable qcow2; clone or overlay it, never boot it directly. */
  baseImage: string;
  kernel: string;
  initrd: string;
  /** Admin key authorized for root in every VM made from the image. */
  privateKeyPath: string;
  publicKey: string;
}

let built: Promise<TestImage> | undefined;

/**
 * Builds the tiny test image once (scripts/make-test-image.sh; it skips work when up to date and holds a flock,
 * so several vitest workers may call this at the same time).
 */
export function ensureTestImage(): Promise<TestImage> {
  built ??= (async () => {
    const dir = path.join(repoRoot, '.cache/testvm');
    await run(path.join(repoRoot, 'scripts/make-test-image.sh'), [dir]);
    return {
      dir,
      baseImage: path.join(dir, 'base.qcow2'),
      kernel: path.join(dir, 'vmlinuz'),
      initrd: path.join(dir, 'initrd.img'),
      privateKeyPath: path.join(dir, 'id_ed25519'),
      publicKey: (await readFile(path.join(dir, 'id_ed25519.pub'), 'utf8')).trim(),
    };
  })();
  return built;
}
