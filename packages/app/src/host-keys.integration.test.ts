import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeSecretsFleet, type SecretsFleet, sshKeygen } from '@agentfleet/testing/provision-fixture';
import { afterEach, describe, expect, it } from 'vitest';
import { retireHostKeys } from './host-keys.js';
import { secretsRekeyer } from './provisioning.js';

// Real pieces: secrets.nix evaluated by nix-instantiate, packages/secrets' rekey, and the real
// `age` deciding who can decrypt.
let fleet: SecretsFleet;
afterEach(() => rm(fleet.dir, { recursive: true, force: true }));

const canDecrypt = (key: string, name: string) => {
  try {
    execFileSync('age', ['-d', '-i', key, join(fleet.dir, 'secrets', `${name}.age`)], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
};

/** drago and luce share a secret, drago has one of its own; both host keys recorded and rekeyed. */
async function provisionedFleet(): Promise<Record<'drago' | 'luce', string>> {
  fleet = await makeSecretsFleet(
    { drago: ['shared', 'drago-only'], luce: ['shared'] },
    { shared: 'both\n', 'drago-only': 'drago\n' },
  );
  const rekeyer = secretsRekeyer(join(fleet.dir, 'secrets'), [fleet.adminKey]);
  const keys = {
    drago: sshKeygen(join(fleet.dir, 'drago_host')),
    luce: sshKeygen(join(fleet.dir, 'luce_host')),
  };
  for (const agent of ['drago', 'luce'] as const) {
    await rekeyer.recordHostKey(agent, (await readFile(`${keys[agent]}.pub`, 'utf8')).trim());
    await rekeyer.rekeyAgent(agent);
  }
  expect(canDecrypt(keys.drago, 'drago-only')).toBe(true);
  return keys;
}

describe('retireHostKeys', () => {
  it("deletes the agent's host key and re-encrypts the secrets that listed it without it", async () => {
    const keys = await provisionedFleet();
    const r = await retireHostKeys(join(fleet.dir, 'secrets'), [fleet.adminKey], ['drago']);
    expect(r).toEqual({ retired: ['drago'], rekeyed: ['drago-only.age', 'shared.age'] });
    expect(existsSync(join(fleet.dir, 'secrets/hosts/drago.pub'))).toBe(false);
    expect(canDecrypt(keys.drago, 'shared')).toBe(false);
    expect(canDecrypt(keys.drago, 'drago-only')).toBe(false);
    expect(canDecrypt(keys.luce, 'shared')).toBe(true);
    expect(canDecrypt(fleet.adminKey, 'drago-only')).toBe(true);
    // Nothing left to retire the second time.
    expect(await retireHostKeys(join(fleet.dir, 'secrets'), [fleet.adminKey], ['drago'])).toEqual({
      retired: [],
      rekeyed: [],
    });
  });

  it('without an admin identity the key file still goes and the warning names fleet secrets rekey', async () => {
    const keys = await provisionedFleet();
    const r = await retireHostKeys(join(fleet.dir, 'secrets'), [], ['drago']);
    expect(r.retired).toEqual(['drago']);
    expect(r.warning).toMatch(/no admin identity .*host key of drago: run 'fleet secrets rekey'/);
    expect(existsSync(join(fleet.dir, 'secrets/hosts/drago.pub'))).toBe(false);
    // Untouched until the admin rekeys.
    expect(canDecrypt(keys.drago, 'shared')).toBe(true);
  });

  it('an identity that cannot decrypt is a warning, not an error', async () => {
    await provisionedFleet();
    const stranger = sshKeygen(join(fleet.dir, 'stranger'));
    const r = await retireHostKeys(join(fleet.dir, 'secrets'), [stranger], ['drago']);
    expect(r.rekeyed).toEqual([]);
    expect(r.warning).toMatch(/could not re-encrypt drago-only\.age: .*run 'fleet secrets rekey'/);
  });
});
