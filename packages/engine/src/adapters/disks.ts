import { createHash } from 'node:crypto';
import { chmod, link, open, realpath, stat, unlink } from 'node:fs/promises';
import type { BaseIdentity, DiskInfo, DiskRequest, Disks } from '@agentfleet/core';
import { partialDiskOf } from '../paths.js';
import { PRIVATE_FILE_MODE } from './state-dir.js';
import { runTied } from './tied-child.js';

const HEAD = 1024 * 1024;
const PROGRESS_MS = 250;

/**
 * Agent disks on the local filesystem. A new disk is built under a temp name and published
 * with link(2), which fails if the target exists: a disk is never overwritten, and a run killed
 * mid-copy leaves only a temp file that the next run discards.
 */
export class LocalDisks implements Disks {
  async inspect(path: string): Promise<DiskInfo> {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      await mustBeRegular(path, 'agent disk');
      fh = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false };
      throw err;
    }
    try {
      return { exists: true, ...(await qcow2Backing(fh)) };
    } finally {
      await fh.close();
    }
  }

  async baseIdentity(base: string): Promise<BaseIdentity> {
    const path = await realpath(base).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new MissingBaseImageError(base) : err;
    });
    const st = await mustBeRegular(path, 'base image');
    const fh = await open(path, 'r');
    try {
      const head = Buffer.alloc(Math.min(HEAD, st.size));
      await fh.read(head, 0, head.length, 0);
      return {
        path,
        size: st.size,
        mtimeMs: Math.trunc(st.mtimeMs),
        headSha256: createHash('sha256').update(head).digest('hex'),
      };
    } finally {
      await fh.close();
    }
  }

  async create(req: DiskRequest, onProgress: (done: number, total: number) => void): Promise<void> {
    const tmp = partialDiskOf(req.path);
    await unlink(tmp).catch(() => {}); // leftover of a killed run: never trusted, rebuilt
    try {
      if (req.mode === 'overlay') await makeOverlay(req.base, tmp);
      else await sparseCopy(req.base, tmp, onProgress);
      // Private before it has its name: the disk will hold the guest's host key and data.
      await chmod(tmp, PRIVATE_FILE_MODE);
      await link(tmp, req.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new Error(`refusing to overwrite existing disk ${req.path}`);
      }
      throw err;
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  async remove(path: string): Promise<void> {
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}

/** The first thing a new user meets: say where the base image comes from and where it goes. */
export class MissingBaseImageError extends Error {
  override name = 'MissingBaseImageError';
  readonly remedy: string;
  constructor(readonly path: string) {
    super(`base image ${path} does not exist`);
    this.remedy =
      'build it with `nix build .#nixosConfigurations.agent-base.config.system.build.qcow2`, then ' +
      `copy result/nixos.qcow2 to ${path} (or point baseImage in agents/fleet.yaml at an image you have)`;
  }
}

/**
 * Stats `path` and refuses anything but a regular file: opening a FIFO would block fleet forever, and a directory
 * or device is no disk image.
 */
async function mustBeRegular(path: string, what: string) {
  const st = await stat(path);
  if (!st.isFile()) {
    const kind = st.isDirectory()
      ? 'a directory'
      : st.isFIFO()
        ? 'a FIFO'
        : st.isSocket()
          ? 'a socket'
          : 'a device';
    throw new Error(`${what} ${path} is ${kind}, not a regular file`);
  }
  return st;
}

async function makeOverlay(base: string, target: string): Promise<void> {
  const abs = await realpath(base);
  await runTied('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', abs, '-F', 'qcow2', target]);
}

/**
 * Copies src to dst sparsely. The copying is coreutils' `cp --sparse=always`: it skips the
 * source's holes with SEEK_DATA/SEEK_HOLE, which Node cannot do (reading 2 GiB of holes as zeros
 * was 7x slower, bench/disk.mjs). Progress is the copy's growing length, polled; the data is
 * fsynced before the caller publishes the file, so a crash never leaves a torn disk under the
 * final name.
 */
export async function sparseCopy(
  src: string,
  dst: string,
  onProgress: (done: number, total: number) => void,
): Promise<void> {
  const { size } = await stat(src);
  const copy = runTied('cp', ['--sparse=always', '--reflink=auto', '--', src, dst]);
  const poll = setInterval(() => {
    stat(dst).then(
      (s) => onProgress(Math.min(s.size, size), size),
      () => {},
    );
  }, PROGRESS_MS);
  try {
    await copy;
  } finally {
    clearInterval(poll);
  }
  const fh = await open(dst, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  onProgress(size, size);
}

/** Backing file named in a qcow2 header (QEMU docs/interop/qcow2.txt), without spawning qemu-img. */
async function qcow2Backing(fh: Awaited<ReturnType<typeof open>>): Promise<Omit<DiskInfo, 'exists'>> {
  const hdr = Buffer.alloc(20);
  const { bytesRead } = await fh.read(hdr, 0, 20, 0);
  if (bytesRead < 20 || hdr.readUInt32BE(0) !== 0x514649fb) return { format: 'raw' };
  const offset = Number(hdr.readBigUInt64BE(8));
  const length = hdr.readUInt32BE(16);
  if (offset === 0 || length === 0) return { format: 'qcow2' };
  const name = Buffer.alloc(length);
  await fh.read(name, 0, length, offset);
  return { format: 'qcow2', backingFile: name.toString('utf8') };
}
