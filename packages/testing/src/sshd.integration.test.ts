import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensshArgs, presentedHostKey, run, type Sshd, startSshd, writeKnownHosts } from './index.js';

describe('startSshd fixture', () => {
  let sshd: Sshd;
  let tmp: string;
  let known: string;

  beforeAll(async () => {
    sshd = await startSshd();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'agentfleet-sshdtest-'));
    known = path.join(tmp, 'known_hosts');
    await writeKnownHosts(known, sshd.port, sshd.hostPublicKey);
  });
  afterAll(async () => {
    await sshd?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('presents the host key it reports', async () => {
    expect(await presentedHostKey(sshd.port)).toBe(sshd.hostPublicKey);
  });

  it('lets the client key log in and run a command, with the host key pinned', async () => {
    const args = [...opensshArgs(sshd.port, sshd.privateKeyPath, known), `${sshd.user}@127.0.0.1`];
    expect(await run('ssh', [...args, 'echo hello; exit 0'])).toBe('hello\n');
  });

  it('serves SFTP', async () => {
    const src = path.join(tmp, 'src.txt');
    await writeFile(src, 'payload');
    const dest = path.join(tmp, 'dest.txt');
    const args = opensshArgs(sshd.port, sshd.privateKeyPath, known).slice(2);
    await run('scp', ['-s', '-P', String(sshd.port), ...args, src, `${sshd.user}@127.0.0.1:${dest}`]);
    expect(await readFile(dest, 'utf8')).toBe('payload');
  });

  it('stops listening once stopped', async () => {
    const other = await startSshd();
    await other.stop();
    await expect(presentedHostKey(other.port)).rejects.toThrow();
  });
});
