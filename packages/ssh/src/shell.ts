import { lstat, mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import {
  type OutputStream,
  RemoteConnectionLostError,
  type RemoteShell,
  RemoteTimeoutError,
  type SshPublicKey,
} from '@agentfleet/core';
import type { Client, SFTPWrapper } from 'ssh2';
import { RemoteSignalError } from './errors.js';

const remoteJoin = path.posix.join;

export interface ShellDeadlines {
  /** A command's deadline when the caller gives none (a NixOS rebuild may take long). */
  execMs: number;
  /** One SFTP request (stat, mkdir, a whole file's transfer). */
  sftpMs: number;
}

export const DEFAULT_DEADLINES: ShellDeadlines = { execMs: 3_600_000, sftpMs: 300_000 };

/**
 * A logged-in ssh2 session: commands over exec channels, files over one lazily opened SFTP session. Every
 * operation ends: by its result, by its deadline, or when the connection goes away (keepalives unanswered,
 * socket closed), which fails it with a RemoteConnectionLostError instead of leaving it pending.
 */
export class SshShell implements RemoteShell {
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private readonly closed: Promise<void>;
  private lostReason: string | undefined;
  private lastError: string | undefined;
  private readonly onLost = new Set<(reason: string) => void>();
  private closing = false;

  constructor(
    private readonly client: Client,
    readonly hostKey: SshPublicKey,
    /** Who this session is with, for messages. */
    private readonly who = 'agent',
    private readonly deadlines: ShellDeadlines = DEFAULT_DEADLINES,
  ) {
    // Transport errors (keepalive timeout, reset) end the connection; the operations in flight report them.
    client.on('error', (err: Error) => {
      this.lastError = err.message;
    });
    this.closed = new Promise((resolve) =>
      client.once('close', () => {
        this.lostReason = this.closing
          ? 'session closed'
          : (this.lastError ?? 'the server closed the connection');
        for (const notify of this.onLost) notify(this.lostReason);
        resolve();
      }),
    );
  }

  /**
   * Runs `work` until it settles, its deadline passes (then `abandon` runs), or the connection is lost.
   * `work` gets the settle functions so callbacks from ssh2 that fire late are ignored.
   */
  private guard<T>(
    operation: string,
    timeoutMs: number,
    work: (resolve: (v: T) => void, reject: (e: Error) => void) => void,
    abandon?: () => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        this.onLost.delete(lost);
      };
      const lost = (reason: string) => {
        if (settled) return;
        finish();
        reject(new RemoteConnectionLostError(this.who, operation, reason));
      };
      const timer = setTimeout(() => {
        if (settled) return;
        finish();
        abandon?.();
        reject(new RemoteTimeoutError(this.who, operation, timeoutMs));
      }, timeoutMs);
      if (this.lostReason !== undefined) return lost(this.lostReason);
      this.onLost.add(lost);
      work(
        (v) => {
          if (settled) return;
          finish();
          resolve(v);
        },
        (e) => {
          if (settled) return;
          finish();
          // A channel torn down by the lost connection reports "no exit status" or similar: say what happened.
          reject(
            this.lostReason !== undefined
              ? new RemoteConnectionLostError(this.who, operation, this.lostReason)
              : e,
          );
        },
      );
    });
  }

  /** Resolves once the connection has ended, for whatever reason. */
  ended(): Promise<void> {
    return this.closed;
  }

  /**
   * A TCP connection from the server to host:port (a `direct-tcpip` channel, what `ssh -W` and ProxyJump use): how
   * fleet reaches a forward that listens on a remote libvirt host's loopback.
   */
  forwardOut(host: string, port: number, opts: { timeoutMs?: number } = {}): Promise<Duplex> {
    return this.guard<Duplex>(
      `forward to ${host}:${port}`,
      opts.timeoutMs ?? this.deadlines.execMs,
      (resolve, reject) => {
        this.client.forwardOut('127.0.0.1', 0, host, port, (err, channel) =>
          err ? reject(err) : resolve(channel),
        );
      },
    );
  }

  /**
   * A connection from the server to the unix socket at `path` on its side (a `direct-streamlocal@openssh.com`
   * channel, what `ssh -L local.sock:remote.sock` uses): how fleet reaches a remote agent's SPICE socket.
   */
  forwardOutUnix(path: string, opts: { timeoutMs?: number } = {}): Promise<Duplex> {
    return this.guard<Duplex>(
      `forward to unix socket ${path}`,
      opts.timeoutMs ?? this.deadlines.execMs,
      (resolve, reject) => {
        this.client.openssh_forwardOutStreamLocal(path, (err, channel) =>
          err ? reject(err) : resolve(channel),
        );
      },
    );
  }

  exec(
    command: string,
    onOutput?: (chunk: string, stream: OutputStream) => void,
    opts: { timeoutMs?: number } = {},
  ): Promise<number> {
    let abandon: (() => void) | undefined;
    return this.guard<number>(
      `\`${command}\``,
      opts.timeoutMs ?? this.deadlines.execMs,
      (resolve, reject) => {
        this.client.exec(command, (err, channel) => {
          if (err) return reject(err);
          abandon = () => channel.close();
          let code: number | undefined;
          let signal: string | undefined;
          // Decoders keep a multi-byte character split across packets intact.
          const out = new StringDecoder('utf8');
          const errOut = new StringDecoder('utf8');
          const emit = (text: string, stream: OutputStream) => {
            if (text && onOutput) onOutput(text, stream);
          };
          // A channel whose connection dies may emit 'error' (write after the end): unhandled, it would crash fleet.
          channel.on('error', (e: Error) => reject(e));
          channel.stderr.on('error', () => undefined);
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
      },
      () => abandon?.(),
    );
  }

  async upload(files: readonly { local: string; remote: string }[]): Promise<void> {
    const sftp = await this.sftpOps();
    for (const f of files) {
      await mkdirs(sftp, path.posix.dirname(f.remote));
      await sftp.put(f.local, f.remote, (await lstat(f.local)).mode & 0o7777);
    }
  }

  async uploadDir(localDir: string, remoteDir: string): Promise<void> {
    const sftp = await this.sftpOps();
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
          await sftp.put(from, to, (await lstat(from)).mode & 0o7777);
        }
      }
    };
    await walk(localDir, remoteDir);
  }

  /** What is at `remotePath`: a directory, something else, or nothing. */
  async remoteKind(remotePath: string): Promise<'dir' | 'other' | undefined> {
    return (await this.sftpOps()).kind(remotePath);
  }

  /** Copies one remote file to `local` (SFTP). */
  async download(remotePath: string, local: string): Promise<void> {
    await (await this.sftpOps()).get(remotePath, local);
  }

  /** Copies a remote directory tree to `localDir`, creating directories (symlinks are recreated, not followed). */
  async downloadDir(remoteDir: string, localDir: string): Promise<void> {
    const sftp = await this.sftpOps();
    const walk = async (remote: string, local: string): Promise<void> => {
      await mkdir(local, { recursive: true });
      for (const entry of await sftp.list(remote)) {
        const from = remoteJoin(remote, entry.name);
        const to = path.join(local, entry.name);
        if (entry.kind === 'dir') await walk(from, to);
        else if (entry.kind === 'link') {
          await rm(to, { force: true });
          await symlink(await sftp.readlink(from), to);
        } else if (entry.kind === 'file') await sftp.get(from, to);
      }
    };
    await walk(remoteDir, localDir);
  }

  async readFile(remotePath: string): Promise<string> {
    return (await this.sftpOps()).readFile(remotePath);
  }

  async close(): Promise<void> {
    this.closing = this.lostReason === undefined;
    this.client.end();
    await this.closed;
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= this.guard('opening SFTP', this.deadlines.sftpMs, (resolve, reject) =>
      this.client.sftp((err, sftp) => {
        if (err) return reject(new Error(`SFTP unavailable: ${err.message}`));
        // ssh2 emits 'error' on the SFTP stream for protocol faults (e.g. the server died mid-packet): the
        // pending requests fail through their callbacks; unhandled, the event would crash fleet.
        sftp.on('error', () => undefined);
        resolve(sftp);
      }),
    );
    return this.sftpSession;
  }

  /** The SFTP requests this shell makes, each under the SFTP deadline and the connection's watch. */
  private async sftpOps(): Promise<SftpOps> {
    const sftp = await this.sftp();
    const call = <T>(operation: string, fn: (done: (err: Error | null | undefined, v?: T) => void) => void) =>
      this.guard<T>(operation, this.deadlines.sftpMs, (resolve, reject) =>
        fn((err, v) => (err ? reject(err) : resolve(v as T))),
      );
    return {
      put: (local, remote, mode) =>
        call<void>(`upload of ${remote}`, (done) => sftp.fastPut(local, remote, { mode }, done)).catch(
          (err) => {
            throw rephrase(err, `upload ${local} -> ${remote} failed`);
          },
        ),
      kind: (remote) =>
        call<'dir' | 'other' | undefined>(`stat of ${remote}`, (done) =>
          sftp.lstat(remote, (err, stats) =>
            done(null, err ? undefined : stats.isDirectory() ? 'dir' : 'other'),
          ),
        ),
      mkdir: (dir) =>
        call<void>(`mkdir ${dir}`, (done) => sftp.mkdir(dir, done)).catch((err) => {
          throw rephrase(err, `mkdir ${dir} failed`);
        }),
      unlink: (remote) => call<void>(`unlink ${remote}`, (done) => sftp.unlink(remote, done)),
      symlink: (target, link) =>
        call<void>(`symlink ${link}`, (done) => sftp.symlink(target, link, done)).catch((err) => {
          throw rephrase(err, `symlink ${link} -> ${target} failed`);
        }),
      get: (remote, local) =>
        call<void>(`download of ${remote}`, (done) => sftp.fastGet(remote, local, done)).catch((err) => {
          throw rephrase(err, `download ${remote} -> ${local} failed`);
        }),
      list: (dir) =>
        call<{ name: string; kind: 'dir' | 'link' | 'file' | 'other' }[]>(`listing of ${dir}`, (done) =>
          sftp.readdir(dir, (err, entries) =>
            done(
              err,
              entries?.map((e) => ({
                name: e.filename,
                kind: e.attrs.isDirectory()
                  ? 'dir'
                  : e.attrs.isSymbolicLink()
                    ? 'link'
                    : e.attrs.isFile()
                      ? 'file'
                      : 'other',
              })),
            ),
          ),
        ).catch((err) => {
          throw rephrase(err, `cannot list ${dir}`);
        }),
      readlink: (link) =>
        call<string>(`readlink ${link}`, (done) => sftp.readlink(link, done)).catch((err) => {
          throw rephrase(err, `readlink ${link} failed`);
        }),
      readFile: (remote) =>
        call<Buffer>(`read of ${remote}`, (done) => sftp.readFile(remote, done)).then(
          (data) => data.toString('utf8'),
          (err) => {
            throw rephrase(err, `cannot read ${remote}`);
          },
        ),
    };
  }
}

interface SftpOps {
  put(local: string, remote: string, mode: number): Promise<void>;
  kind(remote: string): Promise<'dir' | 'other' | undefined>;
  mkdir(dir: string): Promise<void>;
  unlink(remote: string): Promise<void>;
  symlink(target: string, link: string): Promise<void>;
  readFile(remote: string): Promise<string>;
  get(remote: string, local: string): Promise<void>;
  list(dir: string): Promise<{ name: string; kind: 'dir' | 'link' | 'file' | 'other' }[]>;
  readlink(link: string): Promise<string>;
}

/** Adds what was being done to an SFTP error; lost connections and deadlines keep their own words and class. */
function rephrase(err: Error, doing: string): Error {
  if (err instanceof RemoteConnectionLostError || err instanceof RemoteTimeoutError) return err;
  return new Error(`${doing}: ${err.message}`);
}

/** `mkdir -p` over SFTP. */
async function mkdirs(sftp: SftpOps, dir: string): Promise<void> {
  const parts = dir.split('/').filter(Boolean);
  let current = dir.startsWith('/') ? '/' : '';
  for (const part of parts) {
    current = current ? remoteJoin(current, part) : part;
    const kind = await sftp.kind(current);
    if (kind === 'dir') continue;
    if (kind === 'other') throw new Error(`cannot create directory ${current}: a file is in the way`);
    await sftp.mkdir(current);
  }
}

async function replaceSymlink(sftp: SftpOps, target: string, link: string): Promise<void> {
  if (await sftp.kind(link)) await sftp.unlink(link);
  await sftp.symlink(target, link);
}
