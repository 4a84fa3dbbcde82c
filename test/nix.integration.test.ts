// What can be checked of the NixOS side without nixpkgs: every .nix file parses, and the pure
// parts the flake and agenix build on (hosts/agents.nix, secrets/secrets.nix, hosts/keys.nix)
// evaluate to the right agents and recipients, using the real nix-instantiate and real keys.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFleet } from '@agentfleet/app/fleet-files';
import { AGENTS_JSON_PATH, agentsJson, type NixAgentInput } from '@agentfleet/core';
import { evalNixJson, nixSources, parseNixFile } from '@agentfleet/testing/nix-eval';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));

function nixFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) {
      return ['node_modules', '.git', 'dist', 'build'].includes(entry.name)
        ? []
        : nixFilesUnder(join(dir, entry.name));
    }
    return entry.name.endsWith('.nix') ? [join(dir, entry.name)] : [];
  });
}

/** A key pair made by ssh-keygen: the .pub file's text (with its comment) and the private key's path. */
function sshKeyPair(dir: string, comment: string): { pub: string; identity: string } {
  const identity = join(dir, `key-${comment.replace(/\W/g, '_')}`);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', identity]);
  return { pub: readFileSync(`${identity}.pub`, 'utf8'), identity };
}

/** "type base64", the form the rules hand to age: the comment dropped. */
const bare = (pub: string): string => pub.trim().split(/\s+/).slice(0, 2).join(' ');

describe('every .nix file in the repository', () => {
  const files = nixFilesUnder(repo).map((file) => relative(repo, file));

  it('includes the flake, the agent module, the base image and the agenix rules', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'flake.nix',
        'hosts/agents.nix',
        'hosts/keys.nix',
        'hosts/common/default.nix',
        'hosts/agent-base/default.nix',
        'hosts/agent-base/qcow.nix',
        'secrets/secrets.nix',
      ]),
    );
  });

  it.each(files)('%s passes nix-instantiate --parse', (file) => {
    const result = parseNixFile(join(repo, file));
    expect(result.stderr).toBe('');
    expect(result.ok).toBe(true);
  });

  it('a file using an undefined variable fails the parse check', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nix-parse-'));
    try {
      writeFileSync(join(dir, 'bad.nix'), '{ x = undefinedThing; }\n');
      const result = parseNixFile(join(dir, 'bad.nix'));
      expect(result.ok).toBe(false);
      expect(result.stderr).toMatch(/undefined variable 'undefinedThing'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the committed fleet', () => {
  it('hosts/agents.nix yields one agent per entry of hosts/agents.json, with its user', () => {
    const json = JSON.parse(readFileSync(join(repo, 'hosts/agents.json'), 'utf8'));
    const users = evalNixJson(
      `builtins.mapAttrs (_: agent: agent.user) (import ${repo}/hosts/agents.nix { }).agents`,
    );
    const expected = Object.fromEntries(
      Object.entries(json.agents as Record<string, { user: string }>).map(([name, a]) => [name, a.user]),
    );
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    expect(users).toEqual(expected);
  });

  it('secrets/secrets.nix gives a rule to every secret an agent lists', () => {
    const json = JSON.parse(readFileSync(join(repo, 'hosts/agents.json'), 'utf8'));
    const listed = Object.values(json.agents as Record<string, { secrets: string[] }>).flatMap(
      (a) => a.secrets,
    );
    const rules = evalNixJson(`import ${repo}/secrets/secrets.nix`) as Record<string, unknown>;
    for (const secret of listed) expect(Object.keys(rules)).toContain(`${secret}.age`);
  });
});

// A fleet repository in a temp dir: the real Nix files, generated agents.json, keys from ssh-keygen.
describe('agents and recipients derived from data files', () => {
  let root: string;
  let keysDir: string;
  let adminPub: string;

  const drago: NixAgentInput = {
    name: 'drago',
    user: 'drago',
    git: { name: 'Drago', email: 'drago@example.org' },
    mail: { address: 'drago@example.org', passwordSecret: 'mail-drago' },
    tailscale: { tags: ['tag:agent'], authKeySecret: 'tailnet-key' },
    desktop: true,
    secrets: [],
  };
  const luce: NixAgentInput = {
    name: 'luce',
    user: 'luce',
    git: { name: 'Luce', email: 'luce@example.org' },
    mail: { address: 'luce@example.org', passwordSecret: 'mail-luce' },
    tailscale: { tags: ['tag:agent'], authKeySecret: 'tailnet-key' },
    desktop: false,
    secrets: [],
  };

  const write = (path: string, text: string | Buffer) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const rules = () =>
    evalNixJson(`import ${root}/secrets/secrets.nix`) as Record<string, { publicKeys: string[] }>;
  const recipients = () =>
    Object.fromEntries(Object.entries(rules()).map(([file, rule]) => [file, rule.publicKeys]));
  const fleet = () =>
    evalNixJson(
      `let fleet = import ${root}/hosts/agents.nix { root = ${root}; }; in fleet // {
         agents = builtins.mapAttrs (_: a: a // { secretFiles = builtins.mapAttrs (_: toString) a.secretFiles; }) fleet.agents;
       }`,
    ) as {
      adminKeys: string[];
      agents: Record<string, { hostKeyRecorded: boolean; secretFiles: Record<string, string>; user: string }>;
    };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'fleet-nix-'));
    keysDir = mkdtempSync(join(tmpdir(), 'fleet-keys-'));
    for (const file of ['hosts/keys.nix', 'hosts/agents.nix', 'secrets/secrets.nix']) {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      copyFileSync(join(repo, file), join(root, file));
    }
    write('hosts/agents.json', agentsJson([drago, luce]));
    adminPub = sshKeyPair(keysDir, 'alice@laptop').pub;
    write('secrets/admins/alice.pub', `# Alice's laptop\n\n${adminPub}`);
    write('secrets/admins/README.md', 'not a key\n');
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(keysDir, { recursive: true, force: true });
  });

  it('without host keys, admins are the only recipients of every secret', () => {
    const admin = bare(adminPub);
    expect(recipients()).toEqual({
      'mail-drago.age': [admin],
      'mail-luce.age': [admin],
      'tailnet-key.age': [admin],
    });
  });

  it("recording an agent's host key makes it a recipient of exactly its secrets", () => {
    const admin = bare(adminPub);
    const dragoHost = sshKeyPair(keysDir, 'root@agent-drago').pub;
    write('secrets/hosts/drago.pub', dragoHost);
    expect(recipients()).toEqual({
      'mail-drago.age': [admin, bare(dragoHost)],
      'mail-luce.age': [admin],
      'tailnet-key.age': [admin, bare(dragoHost)],
    });

    const luceHost = sshKeyPair(keysDir, 'root@agent-luce').pub;
    write('secrets/hosts/luce.pub', luceHost);
    expect(recipients()['tailnet-key.age']).toEqual([admin, bare(dragoHost), bare(luceHost)]);
    expect(recipients()['mail-luce.age']).toEqual([admin, bare(luceHost)]);
  });

  it('ignores host keys of agents not in agents.json, and gives stray .age files to admins only', () => {
    write('secrets/hosts/gone.pub', sshKeyPair(keysDir, 'root@agent-gone').pub);
    write('secrets/old-token.age', 'age-encryption.org/v1\n');
    const all = recipients();
    expect(all['old-token.age']).toEqual([bare(adminPub)]);
    expect(Object.values(all).every((keys) => keys.length === 1)).toBe(true);
  });

  it('takes every key in an admin file, age recipients included', () => {
    const second = sshKeyPair(keysDir, 'alice@desktop').pub;
    const ageKey = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
    write('secrets/admins/alice.pub', `${adminPub}${second}# old laptop retired\n${ageKey}\n`);
    expect(recipients()['mail-drago.age']).toEqual([bare(adminPub), bare(second), ageKey]);
    expect(fleet().adminKeys).toEqual([bare(adminPub), bare(second), ageKey]);
  });

  it("the rules, fed to the real age CLI, let a host key decrypt exactly its agent's secrets", () => {
    const admin = sshKeyPair(keysDir, 'bob@laptop');
    write('secrets/admins/alice.pub', admin.pub);
    const host = sshKeyPair(keysDir, 'root@agent-drago');
    write('secrets/hosts/drago.pub', host.pub);
    for (const [file, rule] of Object.entries(rules())) {
      const recipients = rule.publicKeys.flatMap((key) => ['-r', key]);
      write(`secrets/${file}`, execFileSync('age', ['-e', ...recipients], { input: `plaintext of ${file}` }));
    }
    const decrypt = (identity: string, file: string) =>
      spawnSync('age', ['-d', '-i', identity, join(root, 'secrets', file)], { encoding: 'utf8' });

    expect(decrypt(host.identity, 'mail-drago.age').stdout).toBe('plaintext of mail-drago.age');
    expect(decrypt(host.identity, 'tailnet-key.age').stdout).toBe('plaintext of tailnet-key.age');
    const refused = decrypt(host.identity, 'mail-luce.age');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/no identity matched any of the recipients/);
    for (const file of ['mail-drago.age', 'mail-luce.age', 'tailnet-key.age']) {
      expect(decrypt(admin.identity, file).stdout).toBe(`plaintext of ${file}`);
    }
  });

  it('refuses a key file line that is not a key age can use, naming the file', () => {
    write('secrets/hosts/drago.pub', 'ssh-ed25519\n');
    expect(() => rules()).toThrow(
      /secrets\/hosts\/drago\.pub: not an ssh-ed25519, ssh-rsa or age public key/,
    );
    // A valid SSH key that age cannot encrypt to would only fail later, at re-encryption.
    rmSync(join(root, 'secrets/hosts/drago.pub'));
    const ecdsa = join(keysDir, 'ecdsa');
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', ecdsa]);
    write('secrets/admins/alice.pub', readFileSync(`${ecdsa}.pub`));
    expect(() => fleet()).toThrow(/secrets\/admins\/alice\.pub: not an ssh-ed25519/);
  });

  it("declares an agent's secrets only once its host key is recorded and the .age file exists", () => {
    write('secrets/mail-drago.age', 'age-encryption.org/v1\n');
    let agents = fleet().agents;
    expect(agents.drago?.hostKeyRecorded).toBe(false);
    expect(agents.drago?.secretFiles).toEqual({});

    write('secrets/hosts/drago.pub', sshKeyPair(keysDir, 'root@agent-drago').pub);
    agents = fleet().agents;
    expect(agents.drago?.hostKeyRecorded).toBe(true);
    // tailnet-key.age does not exist yet, so it is not declared.
    expect(agents.drago?.secretFiles).toEqual({ 'mail-drago': join(root, 'secrets/mail-drago.age') });
    expect(agents.luce?.secretFiles).toEqual({});
  });

  it('passes the admin keys and the agents through', () => {
    const result = fleet();
    expect(result.adminKeys).toEqual([bare(adminPub)]);
    expect(Object.keys(result.agents)).toEqual(['drago', 'luce']);
    expect(result.agents.luce).toMatchObject({
      name: 'luce',
      user: 'luce',
      desktop: false,
      git: { name: 'Luce', email: 'luce@example.org' },
      mail: { address: 'luce@example.org', passwordSecret: 'mail-luce' },
      tailscale: { authKeySecret: 'tailnet-key', tags: ['tag:agent'] },
    });
  });

  it('refuses an agent named "base", which would collide with agent-base', () => {
    write('hosts/agents.json', agentsJson([{ ...luce, name: 'base' }]));
    expect(() => fleet()).toThrow(/may not be named "base"/);
  });

  it('a fleet without admins and host key directories still evaluates', () => {
    rmSync(join(root, 'secrets/admins'), { recursive: true });
    expect(fleet().adminKeys).toEqual([]);
    expect(rules()['mail-drago.age']).toEqual({ publicKeys: [] });
  });
});

describe('hosts/agents.json', () => {
  it('is in sync with agents/*.yaml (regenerate with agentsJson after changing an agent)', () => {
    const committed = readFileSync(join(repo, AGENTS_JSON_PATH), 'utf8');
    expect(committed).toBe(agentsJson(readFleet(repo).agents));
  });
});

// flake.nix's own wiring, evaluated through test/nix/flake-wiring.nix (stand-in inputs, see there);
// the configurations it makes are evaluated for real in nix-modules.integration.test.ts.
interface FlakeWiring {
  inputs: Record<string, string>;
  outputNames: string[];
  packages: string[];
  apps: string[];
  devShells: string[];
  nixosModules: string[];
  agentModuleImports: string[];
}

const flakeWiring = (root: string) =>
  evalNixJson(
    `import ${repo}/test/nix/flake-wiring.nix { repo = ${root}; sources = ${nixSources()}; }`,
  ) as FlakeWiring;

describe('flake.nix', () => {
  it('pins nixpkgs and home-manager to the same release', () => {
    const { inputs } = flakeWiring(repo);
    const nixos = inputs.nixpkgs?.match(/^github:NixOS\/nixpkgs\/nixos-(\d\d\.\d\d)$/)?.[1];
    const hm = inputs['home-manager']?.match(
      /^github:nix-community\/home-manager\/release-(\d\d\.\d\d)$/,
    )?.[1];
    expect(nixos).toBeDefined();
    expect(hm).toBe(nixos);
    expect(inputs.agenix).toBe('github:ryantm/agenix');
  });

  it('offers the package, app, dev shell and module', () => {
    const wiring = flakeWiring(repo);
    expect(wiring.outputNames).toEqual([
      'apps',
      'devShells',
      'nixosConfigurations',
      'nixosModules',
      'packages',
    ]);
    expect(wiring.packages).toEqual(['default', 'fleet']);
    expect(wiring.apps).toEqual(['default', 'fleet']);
    expect(wiring.devShells).toEqual(['default']);
    expect(wiring.nixosModules).toEqual(['agent', 'default']);
    expect(wiring.agentModuleImports).toEqual([
      'home-manager.nixosModules.home-manager',
      'agenix.nixosModules.default',
      'common',
    ]);
  });
});
