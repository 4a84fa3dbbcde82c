// `fleet cp`: files between the host and an agent over fleet's pinned SSH session (SFTP), scp's
// rules: a directory needs `recursive`; a destination that is an existing directory receives the
// source under its own name.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { CopyRequest } from '@agentfleet/core';

/** The SFTP side of one pinned session (packages/ssh SshShell). */
export interface FileTransfer {
  remoteKind(remote: string): Promise<'dir' | 'other' | undefined>;
  upload(files: readonly { local: string; remote: string }[]): Promise<void>;
  uploadDir(localDir: string, remoteDir: string): Promise<void>;
  download(remote: string, local: string): Promise<void>;
  downloadDir(remoteDir: string, localDir: string): Promise<void>;
}

/** The copy cannot be done as asked; the message says why (exit 2). */
export class CopyRefusedError extends Error {
  override name = 'CopyRefusedError';
}

async function localKind(p: string): Promise<'dir' | 'other' | undefined> {
  try {
    return (await stat(p)).isDirectory() ? 'dir' : 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Copies as `req` says; resolves with where the copy landed. */
export async function copyFiles(t: FileTransfer, req: CopyRequest, recursive: boolean): Promise<string> {
  if (req.direction === 'upload') {
    const kind = await localKind(req.local);
    if (!kind) throw new CopyRefusedError(`${req.local} does not exist`);
    if (kind === 'dir' && !recursive)
      throw new CopyRefusedError(`${req.local} is a directory: use -r to copy it`);
    const into = (await t.remoteKind(req.remote)) === 'dir';
    const target = into ? path.posix.join(req.remote, path.basename(path.resolve(req.local))) : req.remote;
    if (kind === 'dir') await t.uploadDir(req.local, target);
    else await t.upload([{ local: req.local, remote: target }]);
    return `${req.agent}:${target}`;
  }
  const kind = await t.remoteKind(req.remote);
  if (!kind) throw new CopyRefusedError(`${req.agent}:${req.remote} does not exist`);
  if (kind === 'dir' && !recursive)
    throw new CopyRefusedError(`${req.agent}:${req.remote} is a directory: use -r to copy it`);
  const into = (await localKind(req.local)) === 'dir';
  const target = into ? path.join(req.local, path.posix.basename(req.remote)) : req.local;
  if (kind === 'dir') await t.downloadDir(req.remote, target);
  else await t.download(req.remote, target);
  return target;
}
