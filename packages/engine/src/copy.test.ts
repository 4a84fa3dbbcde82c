import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CopyRefusedError, copyFiles, type FileTransfer } from './copy.js';

// A recording fake of the SFTP side; the real one copies on a VM in test/e2e/day2.e2e.test.ts.
let local: string;
let calls: string[];
const remote: Record<string, 'dir' | 'other'> = { '/tmp': 'dir', '/tmp/tree': 'dir', '/tmp/f': 'other' };
const transfer: FileTransfer = {
  remoteKind: async (p) => remote[p],
  upload: async (files) => void calls.push(...files.map((f) => `put ${f.local} ${f.remote}`)),
  uploadDir: async (l, r) => void calls.push(`putdir ${l} ${r}`),
  download: async (r, l) => void calls.push(`get ${r} ${l}`),
  downloadDir: async (r, l) => void calls.push(`getdir ${r} ${l}`),
};

beforeEach(async () => {
  local = await mkdtemp(join(tmpdir(), 'day2b-copy-'));
  calls = [];
  await writeFile(join(local, 'a.txt'), 'a');
  await mkdir(join(local, 'd'));
});
afterEach(() => rm(local, { recursive: true, force: true }));

const up = (l: string, r: string) => ({ direction: 'upload' as const, agent: 'drago', local: l, remote: r });
const down = (r: string, l: string) => ({
  direction: 'download' as const,
  agent: 'drago',
  local: l,
  remote: r,
});

describe('copyFiles', () => {
  it('puts a file into an existing remote directory under its own name, or at the path given', async () => {
    expect(await copyFiles(transfer, up(join(local, 'a.txt'), '/tmp'), false)).toBe('drago:/tmp/a.txt');
    expect(await copyFiles(transfer, up(join(local, 'a.txt'), '/tmp/new.txt'), false)).toBe(
      'drago:/tmp/new.txt',
    );
    expect(calls).toEqual([
      `put ${join(local, 'a.txt')} /tmp/a.txt`,
      `put ${join(local, 'a.txt')} /tmp/new.txt`,
    ]);
  });

  it('copies directories only with recursive, both ways', async () => {
    await expect(copyFiles(transfer, up(join(local, 'd'), '/tmp'), false)).rejects.toThrow(
      'is a directory: use -r',
    );
    await expect(copyFiles(transfer, down('/tmp/tree', local), false)).rejects.toBeInstanceOf(
      CopyRefusedError,
    );
    await copyFiles(transfer, up(join(local, 'd'), '/tmp'), true);
    expect(await copyFiles(transfer, down('/tmp/tree', local), true)).toBe(join(local, 'tree'));
    expect(calls).toEqual([`putdir ${join(local, 'd')} /tmp/d`, `getdir /tmp/tree ${join(local, 'tree')}`]);
  });

  it('says which side is missing', async () => {
    await expect(copyFiles(transfer, up(join(local, 'nope'), '/tmp'), false)).rejects.toThrow(
      `${join(local, 'nope')} does not exist`,
    );
    await expect(copyFiles(transfer, down('/tmp/nope', local), false)).rejects.toThrow(
      'drago:/tmp/nope does not exist',
    );
    expect(await copyFiles(transfer, down('/tmp/f', join(local, 'g')), false)).toBe(join(local, 'g'));
    expect(calls).toEqual([`get /tmp/f ${join(local, 'g')}`]);
  });
});
