import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFleet } from '@agentfleet/core';
import { goodFleetFiles } from '@agentfleet/testing/bad-files';
import { afterEach, describe, expect, it } from 'vitest';
import { virtiofsdCheck } from './doctor.js';

const fleetWith = (shares: string) => {
  const text = `libvirtUri: qemu:///system\ngit: { email: x@example.com }\n${shares}`;
  const r = loadFleet([...goodFleetFiles(), { path: 'agents/x.yaml', text }]);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.value;
};
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('doctor: virtiofsd', () => {
  const withShare = fleetWith('shares: [{ source: /srv/p, target: /mnt/p }]\n');

  it('is not checked for a fleet without shares', async () => {
    expect(await virtiofsdCheck(fleetWith(''), ['/nonexistent'])).toEqual([]);
  });

  it('fails with the package to install when an agent has shares and none is found', async () => {
    expect(await virtiofsdCheck(withShare, ['/nonexistent'])).toEqual([
      {
        check: 'virtiofsd',
        status: 'fail',
        detail: 'not in /nonexistent: agents with shares need it',
        remedy: 'apt-get install qemu-system-common (Debian 12), or the virtiofsd package on newer systems',
      },
    ]);
  });

  it('finds the first executable one in the order the wrapper uses', async () => {
    const [a, b] = [mkdtempSync(join(tmpdir(), 'shares-vfs-')), mkdtempSync(join(tmpdir(), 'shares-vfs-'))];
    dirs.push(a, b);
    writeFileSync(join(a, 'virtiofsd'), ''); // not executable: skipped
    writeFileSync(join(b, 'virtiofsd'), '#!/bin/sh\n');
    chmodSync(join(b, 'virtiofsd'), 0o755);
    expect(await virtiofsdCheck(withShare, [a, b])).toEqual([
      { check: 'virtiofsd', status: 'ok', detail: join(b, 'virtiofsd') },
    ]);
  });
});
