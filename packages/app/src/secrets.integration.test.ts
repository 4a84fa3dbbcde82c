import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { silentLog } from '@agentfleet/engine';
import { repoRoot } from '@agentfleet/testing';
import { sshKeygen } from '@agentfleet/testing/provision-fixture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from './context.js';
import { UsageError } from './errors.js';
import { addSecret, editSecret, listSecrets, rekeySecrets } from './secrets.js';

// The secrets workflow as a front-end calls it, with its own editor callback: the repository's
// secrets.nix through the real nix-instantiate, and the real `age` deciding who can decrypt.
// The CLI over the same calls ($EDITOR, stdin, signals): packages/cli/src/commands/secrets.integration.test.ts.
const dir = mkdtempSync('/tmp/app-secrets-');
let admin: string;
let drago: string;
let ctx: AppContext;

const read = (path: string) => readFileSync(join(dir, path), 'utf8');
const decrypt = (key: string, file: string) => {
  const r = spawnSync('age', ['-d', '-i', key, join(dir, 'secrets', file)]);
  return r.status === 0 ? r.stdout.toString() : undefined;
};
const text = (s: string) => new TextEncoder().encode(s);

beforeAll(() => {
  for (const d of ['agents', 'hosts', 'secrets/admins', 'secrets/hosts', 'keys'])
    mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(join(repoRoot, 'secrets/secrets.nix'), join(dir, 'secrets/secrets.nix'));
  copyFileSync(join(repoRoot, 'hosts/keys.nix'), join(dir, 'hosts/keys.nix'));
  writeFileSync(join(dir, 'agents/fleet.yaml'), 'libvirtUri: test:///default\n');
  writeFileSync(join(dir, 'agents/ap-drago.yaml'), 'git: { email: d@example.org }\nsecrets: [ ]\n');
  writeFileSync(join(dir, 'agents/ap-luce.yaml'), 'git: { email: l@example.org }\n');
  writeFileSync(
    join(dir, 'hosts/agents.json'),
    '{"agents":{"ap-drago":{"secrets":[]},"ap-luce":{"secrets":[]}}}',
  );
  admin = sshKeygen(join(dir, 'keys/admin'), 'admin');
  drago = sshKeygen(join(dir, 'keys/drago'), 'drago');
  copyFileSync(`${admin}.pub`, join(dir, 'secrets/admins/alice.pub'));
  copyFileSync(`${drago}.pub`, join(dir, 'secrets/hosts/ap-drago.pub'));
  ctx = { dir, log: silentLog, identities: [admin] };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the secrets workflow', () => {
  it('addSecret asks the editor for the content of a new secret, lists it and encrypts it to the rule', async () => {
    const asked: [string, number][] = [];
    let given: Uint8Array | undefined;
    const r = await addSecret(ctx, 'secrets/mail.age', ['ap-drago'], async (name, before) => {
      asked.push([name, before.length]);
      given = text('hunter2\n');
      return given;
    });
    expect(asked).toEqual([['mail.age', 0]]);
    expect(r).toEqual({ file: 'mail.age', agents: ['ap-drago'], recipients: 2 });
    expect(read('agents/ap-drago.yaml')).toBe('git: { email: d@example.org }\nsecrets: [ mail ]\n');
    expect(JSON.parse(read('hosts/agents.json')).agents['ap-drago'].secrets).toEqual(['mail']);
    expect(decrypt(drago, 'mail.age')).toBe('hunter2\n');
    expect(decrypt(admin, 'mail.age')).toBe('hunter2\n');
    // The plaintext the front-end handed over does not outlive the call.
    expect(given?.every((b) => b === 0)).toBe(true);
  });

  it('addSecret whose editor fails changes nothing', async () => {
    const before = read('agents/ap-luce.yaml');
    await expect(
      addSecret(ctx, 'token', ['ap-luce'], async () => {
        throw new Error('the user cancelled');
      }),
    ).rejects.toThrow('the user cancelled');
    expect(read('agents/ap-luce.yaml')).toBe(before);
    expect(existsSync(join(dir, 'secrets/token.age'))).toBe(false);
    await expect(addSecret(ctx, 'bad name', ['ap-luce'], async () => text('x'))).rejects.toThrow(UsageError);
    await expect(addSecret(ctx, 'mail', ['ap-luce'], async () => text('x'))).rejects.toThrow(
      /secrets\/mail\.age already exists/,
    );
  });

  it('editSecret hands the editor the plaintext; unchanged is not re-encrypted, changed is', async () => {
    const file = read('secrets/mail.age');
    let seen = '';
    expect(
      await editSecret(ctx, 'mail', async (_name, before) => {
        seen = new TextDecoder().decode(before);
        return new Uint8Array(before);
      }),
    ).toEqual({ file: 'mail.age', changed: false, recipients: 2 });
    expect(seen).toBe('hunter2\n');
    expect(read('secrets/mail.age')).toBe(file);
    let before: Uint8Array | undefined;
    const r = await editSecret(ctx, join(dir, 'secrets/mail.age'), async (_name, b) => {
      before = b;
      return text('swordfish\n');
    });
    expect(r).toEqual({ file: 'mail.age', changed: true, recipients: 2 });
    expect(decrypt(drago, 'mail.age')).toBe('swordfish\n');
    expect(before?.every((b) => b === 0)).toBe(true);
    await expect(editSecret(ctx, 'nothing-like-it', async (_n, b) => b)).rejects.toThrow(
      new UsageError("secrets/secrets.nix has no rule for 'nothing-like-it'"),
    );
  });

  it('listSecrets names who gets each secret; rekeySecrets makes a stale one right', async () => {
    const luce = sshKeygen(join(dir, 'keys/luce'), 'luce');
    writeFileSync(join(dir, 'agents/ap-luce.yaml'), 'git: { email: l@example.org }\nsecrets: [mail]\n');
    writeFileSync(
      join(dir, 'hosts/agents.json'),
      '{"agents":{"ap-drago":{"secrets":["mail"]},"ap-luce":{"secrets":["mail"]}}}',
    );
    expect((await listSecrets(ctx)).secrets).toEqual([
      {
        file: 'mail.age',
        state: 'ok',
        armor: false,
        recipients: ['admin:alice', 'agent:ap-drago'],
        agents: ['ap-drago'],
        pending: ['ap-luce'],
      },
    ]);
    copyFileSync(`${luce}.pub`, join(dir, 'secrets/hosts/ap-luce.pub'));
    expect((await listSecrets(ctx)).secrets[0]).toMatchObject({ state: 'stale', pending: [] });
    await expect(rekeySecrets(ctx, { agent: 'nope' })).rejects.toThrow(
      new UsageError("no agent named 'nope'"),
    );
    expect(await rekeySecrets(ctx, { agent: 'ap-luce' })).toMatchObject({
      rekeyed: ['mail.age'],
      failed: [],
    });
    expect(decrypt(luce, 'mail.age')).toBe('swordfish\n');
    expect(await rekeySecrets(ctx, {})).toMatchObject({ rekeyed: [], unchanged: ['mail.age'] });
  });

  it('a fleet without secrets.nix has no secrets, which is no error', async () => {
    const bare = mkdtempSync('/tmp/app-secrets-bare-');
    try {
      mkdirSync(join(bare, 'agents'));
      writeFileSync(join(bare, 'agents/fleet.yaml'), 'libvirtUri: test:///default\n');
      expect(await listSecrets({ dir: bare, log: silentLog })).toEqual({ configured: false, secrets: [] });
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
