import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { OutputStream, RemoteShell, SshPublicKey } from '@agentfleet/core';
import type { Client, SFTPWrapper } from 'ssh2';
import { RemoteSignalError } from './errors.js';

const remoteJoin = path.posix.join;

/** A logged-in ssh2 session: commands over exec channels, files over one lazily opened SFTP session. */
export class SshShell implements RemoteShell {
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private readonly closed: Promise<void>;

  constructor(
    private readonly client: Client,
    readonly hostKey: SshPublicKey,
  ) {
    this.closed = new Promise((resolve) => client.once('close', () => resolve()));
  }

  exec(command: string, onOutput?: (chunk: string, stream: OutputStream) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, channel) => {
        if (err) return reject(err);
        let code: number | undefined;
        let signal: string | undefined;
        // Decoders keep a multi-byte character split across packets intact.
        const out = new StringDecoder('utf8');
        const errOut = new StringDecoder('utf8');
        const emit = (text: string, stream: OutputStream) => {
          if (text && onOutput) onOutput(text, stream);
        };
        channel.on('data', (d: Buffer) => emit(out.write(d), 'stdout'));
        channel.stderr.on('data', (d: Buffer) => emit(errOut.write(d), 'stderr'));
        channel.on('exit', (exitCode: number | null, exitSignal?: string) => {
          code = exitCode ?? undefined;
          signal = exitSignal;
        });
        channel.on('close', () => {
          emit(out.end(), 'stdout');
          emit(errOut.end(), 'stderr');
          if (code !== undefined) resolve(code);
          else
            reject(
              signal ? new RemoteSignalError(command, signal) : new Error(`no exit status for: ${command}`),
            );
        });
        // Nothing is fed to stdin: EOF now so commands that read it do not hang.
        channel.end();
      });
    });
  }

  async upload(files: readonly { local: string; remote: string }[]): Promise<void> {
    const sftp = await this.sftp();
    for (const f of files) {
      await mkdirs(sftp, path.posix.dirname(f.remote));
      await put(sftp, f.local, f.remote, (await lstat(f.local)).mode & 0o7777);
    }
  }

  async uploadDir(localDir: string, remoteDir: string): Promise<void> {
    const sftp = await this.sftp();
    await mkdirs(sftp, remoteDir);
    const walk = async (local: string, remote: string): Promise<void> => {
      for (const entry of await readdir(local, { withFileTypes: true })) {
        const from = path.join(local, entry.name);
        const to = remoteJoin(remote, entry.name);
        if (entry.isDirectory()) {
          await mkdirs(sftp, to);
          await walk(from, to);
        } else if (entry.isSymbolicLink()) {
          await replaceSymlink(sftp, await readlink(from), to);
        } else if (entry.isFile()) {
          await put(sftp, from, to, (await lstat(from)).mode & 0o7777);
        }
      }
    };
    await walk(localDir, remoteDir);
  }

  async readFile(remotePath: string): Promise<string> {
    const sftp = await this.sftp();
    return new Promise((resolve, reject) =>
      sftp.readFile(remotePath, (err, data) =>
        err ? reject(new Error(`cannot read ${remotePath}: ${err.message}`)) : resolve(data.toString('utf8')),
      ),
    );
  }

  async close(): Promise<void> {
    this.client.end();
    await this.closed;
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise((resolve, reject) =>
      this.client.sftp((err, sftp) =>
        err ? reject(new Error(`SFTP unavailable: ${err.message}`)) : resolve(sftp),
      ),
    );
    return this.sftpSession;
  }
}

function put(sftp: SFTPWrapper, local: string, remote: string, mode: number): Promise<void> {
  return new Promise((resolve, reject) =>
    sftp.fastPut(local, remote, { mode }, (err) =>
      err ? reject(new Error(`upload ${local} -> ${remote} failed: ${err.message}`)) : resolve(),
    ),
  );
}

function exists(sftp: SFTPWrapper, remote: string): Promise<'dir' | 'other' | undefined> {
  return new Promise((resolve) =>
    sftp.lstat(remote, (err, stats) => resolve(err ? undefined : stats.isDirectory() ? 'dir' : 'other')),
  );
}

/** `mkdir -p` over SFTP. */
async function mkdirs(sftp: SFTPWrapper, dir: string): Promise<void> {
  const parts = dir.split('/').filter(Boolean);
  let current = dir.startsWith('/') ? '/' : '';
  for (const part of parts) {
    current = current ? remoteJoin(current, part) : part;
    const kind = await exists(sftp, current);
    if (kind === 'dir') continue;
    if (kind === 'other') throw new Error(`cannot create directory ${current}: a file is in the way`);
    await new Promise<void>((resolve, reject) =>
      sftp.mkdir(current, (err) =>
        err ? reject(new Error(`mkdir ${current} failed: ${err.message}`)) : resolve(),
      ),
    );
  }
}

async function replaceSymlink(sftp: SFTPWrapper, target: string, link: string): Promise<void> {
  if (await exists(sftp, link)) {
    await new Promise<void>((resolve, reject) => sftp.unlink(link, (err) => (err ? reject(err) : resolve())));
  }
  await new Promise<void>((resolve, reject) =>
    sftp.symlink(target, link, (err) =>
      err ? reject(new Error(`symlink ${link} -> ${target} failed: ${err.message}`)) : resolve(),
    ),
  );
}
