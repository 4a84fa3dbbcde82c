// secrets.nix evaluated by the real nix-instantiate.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ageKey, sshKey, type TestKey, tempDir } from '@agentfleet/testing/age-oracle';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesForRecipient, readRules } from './rules.js';

const dir = tempDir();
let admin: TestKey;
let drago: TestKey;
let luce: TestKey;
let ops: TestKey;

beforeAll(() => {
  mkdirSync(join(dir.path, 'hosts'));
  admin = sshKey(dir.path, 'admin', 'ed25519');
  drago = sshKey(join(dir.path, 'hosts'), 'drago', 'ed25519');
  luce = sshKey(join(dir.path, 'hosts'), 'luce', 'rsa', ['-b', '2048']);
  ops = ageKey(dir.path, 'ops');
});
afterAll(() => dir.remove());

function write(name: string, text: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
}

describe('readRules', () => {
  it('reads let, ++, inherit, armor = true and host keys kept as data', async () => {
    const path = write(
      'secrets.nix',
      `let
  admin = "${admin.recipient}";
  keys = {
    ops = "${ops.recipient}";
    # host keys are files, so recording one never edits this file
    drago = builtins.readFile ./hosts/drago.pub;
  };
  inherit (keys) ops drago;
  luce = builtins.readFile ./hosts/luce.pub;
  admins = [ admin ops ];
in
{
  "shared.age".publicKeys = admins ++ [ drago luce ];
  "drago-mail.age" = { publicKeys = admins ++ [ drago ]; armor = true; };
  "admin-only.age" = { publicKeys = admins; armor = false; };
}
`,
    );
    const rules = await readRules(path);
    expect(rules).toEqual({
      'shared.age': {
        publicKeys: [admin.recipient, ops.recipient, `${drago.recipient}\n`, `${luce.recipient}\n`],
        armor: false,
      },
      'drago-mail.age': { publicKeys: [admin.recipient, ops.recipient, `${drago.recipient}\n`], armor: true },
      'admin-only.age': { publicKeys: [admin.recipient, ops.recipient], armor: false },
    });
    expect(filesForRecipient(rules, drago.recipient)).toEqual(['drago-mail.age', 'shared.age']);
    // The comment is not part of the key's identity.
    expect(filesForRecipient(rules, luce.recipient.replace(/\S+$/, 'other-comment'))).toEqual(['shared.age']);
    expect(filesForRecipient(rules, ops.recipient)).toHaveLength(3);
  });

  it('names file, line and column for a rule without publicKeys', async () => {
    const path = write('missing.nix', '{\n  "a.age".publicKeys = [ ];\n  "b.age" = { armor = true; };\n}\n');
    await expect(readRules(path)).rejects.toThrow(
      `${path}:3:3: "b.age".publicKeys must be a list of strings`,
    );
  });

  it('names the rule and index of an unusable recipient', async () => {
    const path = write(
      'ecdsa.nix',
      `{\n  "a.age".publicKeys = [ "${admin.recipient}" "ecdsa-sha2-nistp256 AAAA x" ];\n}\n`,
    );
    await expect(readRules(path)).rejects.toThrow(
      `${path}:2:3: "a.age".publicKeys[1]: unsupported recipient type "ecdsa-sha2-nistp256"`,
    );
  });

  it('rejects a non-boolean armor', async () => {
    const path = write('armor.nix', '{ "a.age" = { publicKeys = [ ]; armor = "yes"; }; }\n');
    await expect(readRules(path)).rejects.toThrow(`${path}:1:3: "a.age".armor must be true or false`);
  });

  it("passes Nix's own error and position through", async () => {
    const path = write('undefined.nix', 'let x = 1; in { "a.age".publicKeys = [ y ]; }\n');
    await expect(readRules(path)).rejects.toThrow(/undefined variable 'y'[\s\S]*undefined\.nix:1:40/);
  });

  it('a missing nix-instantiate says how to install it', async () => {
    const path = write('ok.nix', '{ }\n');
    await expect(
      readRules(path, { nixInstantiate: join(dir.path, 'no-such-nix-instantiate') }),
    ).rejects.toThrow(/no-such-nix-instantiate not found; .*apt-get install nix-bin/);
  });
  it('works without root, where Nix has no writable store (--store dummy://)', async () => {
    const path = write(
      'plain.nix',
      `{ "a.age" = { publicKeys = [ "${admin.recipient}" ]; armor = true; }; }\n`,
    );
    const expected = { 'a.age': { publicKeys: [admin.recipient], armor: true } };
    if (process.getuid?.() !== 0) {
      // Already unprivileged: the other tests take this path too.
      expect(await readRules(path)).toEqual(expected);
      return;
    }
    chmodSync(dir.path, 0o755);
    const rules = fileURLToPath(new URL('../dist/rules.js', import.meta.url));
    const script = `import(${JSON.stringify(rules)}).then((m) => m.readRules(${JSON.stringify(path)})).then((r) => process.stdout.write(JSON.stringify(r)))`;
    const out = execFileSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', '-e', script],
      {
        encoding: 'utf8',
        env: { ...process.env, HOME: dir.path },
      },
    );
    expect(JSON.parse(out)).toEqual(expected);
  });
});
