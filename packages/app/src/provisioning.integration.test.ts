import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeSecretsFleet, type SecretsFleet, sshKeygen } from '@agentfleet/testing/provision-fixture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretsRekeyer } from './provisioning.js';

// The rekeyer with the real pieces: secrets.nix evaluated by nix-instantiate, packages/secrets'
// rekey, and the real `age` deciding who can decrypt.
let fleet: SecretsFleet;
const decryptWith = (key: string, name: string) =>
  execFileSync('age', ['-d', '-i', key, join(fleet.dir, 'secrets', `${name}.age`)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

beforeAll(async () => {
  fleet = await makeSecretsFleet(
    { drago: ['shared', 'drago-only'], luce: ['shared'] },
    { shared: 'both\n', 'drago-only': 'drago\n' },
  );
});
afterAll(() => rm(fleet.dir, { recursive: true, force: true }));

describe('secretsRekeyer', () => {
  it('two agents recorded and rekeyed at once both get a shared secret, and only their own', async () => {
    const keys = {
      drago: sshKeygen(join(fleet.dir, 'drago_host')),
      luce: sshKeygen(join(fleet.dir, 'luce_host')),
    };
    const rekeyer = secretsRekeyer(join(fleet.dir, 'secrets'), [fleet.adminKey]);
    const summaries = await Promise.all(
      (['drago', 'luce'] as const).map(async (agent) => {
        const pub = (await readFile(`${keys[agent]}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
        await rekeyer.recordHostKey(agent, pub);
        return rekeyer.rekeyAgent(agent);
      }),
    );
    expect(summaries.flatMap((s) => s.failed)).toEqual([]);
    expect(await readFile(join(fleet.dir, 'secrets', 'hosts', 'luce.pub'), 'utf8')).toMatch(
      /^ssh-ed25519 \S+\n$/,
    );

    expect(decryptWith(keys.drago, 'shared')).toBe('both\n');
    expect(decryptWith(keys.luce, 'shared')).toBe('both\n');
    expect(decryptWith(keys.drago, 'drago-only')).toBe('drago\n');
    expect(() => decryptWith(keys.luce, 'drago-only')).toThrow();
    expect(decryptWith(fleet.adminKey, 'drago-only')).toBe('drago\n');

    // Nothing changes on a second rekey (no git churn).
    const again = await rekeyer.rekeyAgent('drago');
    expect(again).toEqual({ rekeyed: [], unchanged: ['drago-only.age', 'shared.age'], failed: [] });
  });

  it('a fleet without secrets.nix has nothing to rekey', async () => {
    const bare = join(fleet.dir, 'bare');
    const rekeyer = secretsRekeyer(join(bare, 'secrets'), [fleet.adminKey]);
    await rekeyer.recordHostKey(
      'drago',
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIt6iiHS6FNfAqLSQPp7GfEyzudAlC/LkGwONhDPj/y5',
    );
    expect(await rekeyer.rekeyAgent('drago')).toEqual({ rekeyed: [], unchanged: [], failed: [] });
  });

  it('a secret the agent gets but nobody created is reported, not skipped silently', async () => {
    const f = await makeSecretsFleet({ drago: ['missing'] }, {});
    try {
      const rekeyer = secretsRekeyer(join(f.dir, 'secrets'), [f.adminKey]);
      const key = sshKeygen(join(f.dir, 'host'));
      await rekeyer.recordHostKey('drago', (await readFile(`${key}.pub`, 'utf8')).trim());
      expect((await rekeyer.rekeyAgent('drago')).failed).toEqual([
        { file: 'missing.age', message: 'no such file in secrets/' },
      ]);
    } finally {
      await rm(f.dir, { recursive: true, force: true });
    }
  });
});
