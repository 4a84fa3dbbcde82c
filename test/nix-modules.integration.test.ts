// flake.nix's nixosConfigurations (agent-base and every agent-<name>) evaluated through the real
// NixOS module system: nixpkgs' lib, agenix's and home-manager's own NixOS modules (from
// ../shared/nix-sources), declarations of the NixOS options the project sets with upstream's
// types (test/nix/upstream), and a stand-in pkgs; see test/nix/eval-configs.nix. An unknown option
// or a type error fails the evaluation; assertions and warnings are checked here. Nothing is built.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentsJson, type NixAgentInput } from '@agentfleet/core';
import { evalNixJson, nixSources } from '@agentfleet/testing/nix-eval';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));

interface Service {
  wantedBy: string[];
  before: string[];
  after: string[];
  serviceConfig: Record<string, string>;
  unitConfig: Record<string, string>;
}
interface System {
  failedAssertions: string[];
  warnings: string[];
  hostName: string;
  kernelModules: string[];
  users: Record<
    string,
    { isNormalUser: boolean; extraGroups: string[]; home: string; authorizedKeys: string[] }
  >;
  services: Record<string, Service>;
  openssh: { hostKeys: { path: string; type: string }[]; PermitRootLogin: string };
  wheelNeedsPassword: boolean;
  identityPaths: string[];
  secrets: Record<string, { owner: string; mode: string; path: string; file: string }>;
  tailscale: { enable: boolean; extraUpFlags: string[]; authKeyFile: string | null };
  autoLogin: { enable: boolean; user: string | null };
  fileSystems: Record<string, { device: string; fsType: string; options: string[] }>;
  gnome: boolean;
  gnomeKeyring: boolean;
  home?: {
    packages: string[];
    shellAliases: Record<string, string>;
    git: {
      user: { name: string; email: string };
      signing: { format: string; key: string; signByDefault: boolean };
    };
    himalaya: boolean;
    mail: Record<
      string,
      {
        address: string;
        passwordCommand: string[];
        imap: { host: string; port: number };
        smtp: { host: string; port: number };
      }
    >;
  };
}

let nixpkgs: string;
let sources: string;
const temps: string[] = [];

beforeAll(() => {
  sources = nixSources();
  // pkgs.path: nixpkgs' lib from the sources beside test/nix/upstream's stand-ins for nixos/.
  nixpkgs = mkdtempSync(join(tmpdir(), 'nixos-nixpkgs-'));
  temps.push(nixpkgs);
  symlinkSync(join(sources, 'nixpkgs-lib', 'lib'), join(nixpkgs, 'lib'));
  symlinkSync(join(repo, 'test', 'nix', 'upstream', 'nixpkgs', 'nixos'), join(nixpkgs, 'nixos'));
});

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

const systemsOf = (root: string) =>
  evalNixJson(
    `import ${repo}/test/nix/eval-configs.nix { root = ${root}; sources = ${sources}; nixpkgs = ${nixpkgs}; }`,
  ) as Record<string, System>;

/** A fleet repository in a temp dir: the real flake.nix and hosts/, these agents, optional extras. */
function fleetWith(agents: NixAgentInput[], files: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'nixos-fleet-'));
  temps.push(root);
  cpSync(join(repo, 'flake.nix'), join(root, 'flake.nix'));
  cpSync(join(repo, 'hosts'), join(root, 'hosts'), { recursive: true });
  for (const dir of ['secrets/admins', 'secrets/hosts']) mkdirSync(join(root, dir), { recursive: true });
  // Hand-written host directories of the real fleet do not belong to this one.
  for (const name of ['drago', 'luce'])
    rmSync(join(root, 'hosts', `agent-${name}`), { recursive: true, force: true });
  writeFileSync(join(root, 'hosts/agents.json'), agentsJson(agents));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function sshPublicKey(comment: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nixos-key-'));
  try {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', join(dir, 'k')]);
    return readFileSync(join(dir, 'k.pub'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const agent = (name: string, over: Partial<NixAgentInput> = {}): NixAgentInput => ({
  name,
  user: name,
  git: { name: name.toUpperCase(), email: `${name}@example.org` },
  desktop: true,
  secrets: [],
  ...over,
});

describe('the committed fleet', () => {
  it('evaluates agent-base and every agent-<name> with no failed assertion', () => {
    const agents = Object.keys(JSON.parse(readFileSync(join(repo, 'hosts/agents.json'), 'utf8')).agents);
    const systems = systemsOf(repo);
    expect(Object.keys(systems).sort()).toEqual(['agent-base', ...agents.map((a) => `agent-${a}`)].sort());
    for (const [name, system] of Object.entries(systems)) {
      expect(system.failedAssertions, name).toEqual([]);
      expect(system.hostName).toBe(name);
    }
  });
});

describe('the base image', () => {
  it('has one admin login, in wheel with the admin keys, and no agent user', () => {
    const admin = sshPublicKey('admin');
    const base = systemsOf(fleetWith([agent('ada')], { 'secrets/admins/admin.pub': admin }))['agent-base'];
    expect(base?.users).toEqual({
      admin: {
        isNormalUser: true,
        extraGroups: ['wheel', 'networkmanager'],
        home: '/home/admin',
        // As secrets/admins files are read: the key without its comment.
        authorizedKeys: [admin.trim().split(' ').slice(0, 2).join(' ')],
      },
    });
    expect(base?.wheelNeedsPassword).toBe(false);
    expect(base?.openssh.PermitRootLogin).toBe('no');
    expect(base?.warnings).toEqual([]);
  });

  it('does not change when an agent is added', () => {
    const one = systemsOf(fleetWith([agent('ada')]))['agent-base'];
    const two = systemsOf(fleetWith([agent('ada'), agent('bo')]));
    expect(two['agent-base']).toEqual(one);
    expect(Object.keys(two).sort()).toEqual(['agent-ada', 'agent-base', 'agent-bo']);
  });

  it('installs a host key handed over through fw_cfg before sshd makes one', () => {
    const base = systemsOf(fleetWith([]))['agent-base'];
    expect(base?.kernelModules).toContain('qemu_fw_cfg');
    const unit = base?.services['agentfleet-fwcfg-hostkey'];
    expect(unit?.before).toEqual(expect.arrayContaining(['sshd-keygen.service', 'sshd.service']));
    expect(unit?.wantedBy).toContain('sshd.service');
    const keyPath = base?.openssh.hostKeys[0]?.path;
    expect(keyPath).toBe('/var/ssh/ssh_host_ed25519_key');
    // The very script the test image's init runs (scripts/make-test-image.sh).
    expect(unit?.serviceConfig.ExecStart).toMatch(
      /-install-fwcfg-hostkey\.sh \/var\/ssh\/ssh_host_ed25519_key$/,
    );
    // On disk before sshd presents it: after that first contact fleet drops its own copy.
    expect(unit?.serviceConfig.ExecStartPost).toMatch(/coreutils[^ ]*\/bin\/sync$/);
  });
});

describe('an agent', () => {
  it('gets its own user, not in wheel, logged into GNOME; the admin login stays apart', () => {
    const ada = systemsOf(fleetWith([agent('ada')]))['agent-ada'];
    expect(ada?.users.ada).toMatchObject({ isNormalUser: true, extraGroups: ['networkmanager'] });
    expect(ada?.users.admin?.extraGroups).toContain('wheel');
    expect(ada?.autoLogin).toEqual({ enable: true, user: 'ada' });
    expect(ada?.failedAssertions).toEqual([]);
  });

  it('with sudo: true is in wheel, and GNOME then logs nobody in automatically', () => {
    const ada = systemsOf(fleetWith([agent('ada', { sudo: true })]))['agent-ada'];
    expect(ada?.users.ada?.extraGroups).toContain('wheel');
    expect(ada?.autoLogin.enable).toBe(false);
    expect(ada?.failedAssertions).toEqual([]);
  });

  it('mounts its shares over virtiofs at their targets, read-only unless said otherwise; the base image none', () => {
    const shares = [
      { tag: 'projects', target: '/mnt/host-projects', readOnly: true },
      { tag: 'out', target: '/home/ada/out', readOnly: false },
    ];
    const systems = systemsOf(fleetWith([agent('ada', { shares }), agent('bo')]));
    const ada = systems['agent-ada'];
    expect(ada?.fileSystems['/mnt/host-projects']).toEqual({
      device: 'projects',
      fsType: 'virtiofs',
      options: ['nofail', 'ro'],
    });
    expect(ada?.fileSystems['/home/ada/out']).toEqual({
      device: 'out',
      fsType: 'virtiofs',
      options: ['nofail', 'rw'],
    });
    expect(ada?.failedAssertions).toEqual([]);
    expect(Object.keys(systems['agent-bo']?.fileSystems ?? {})).toEqual(['/']);
    expect(Object.keys(systems['agent-base']?.fileSystems ?? {})).toEqual(['/']);
  });

  it('refuses GNOME auto-login into a wheel user, and an agent user that is the admin login', () => {
    const root = fleetWith([agent('ada'), agent('bo', { user: 'admin', desktop: false })], {
      'hosts/agent-ada/default.nix': '{ users.users.ada.extraGroups = [ "wheel" ]; }\n',
    });
    const systems = systemsOf(root);
    expect(systems['agent-ada']?.failedAssertions).toEqual([
      'agent-ada: GNOME logs ada in automatically, and that user is in wheel',
    ]);
    expect(systems['agent-bo']?.failedAssertions).toEqual([
      expect.stringContaining('agent-bo: its user admin may be neither root nor the admin login'),
    ]);
  });

  it("decrypts with the host key: secrets are its user's, the tailnet key root's only", () => {
    const root = fleetWith(
      [
        agent('ada', {
          mail: { address: 'ada@example.org', passwordSecret: 'mail-ada' },
          tailscale: {
            tags: ['tag:agent'],
            authKeySecret: 'tailnet-key',
            loginServer: 'https://hs.example.org',
          },
        }),
      ],
      {
        'secrets/hosts/ada.pub': sshPublicKey('host'),
        'secrets/mail-ada.age': 'x',
        'secrets/tailnet-key.age': 'x',
      },
    );
    const ada = systemsOf(root)['agent-ada'];
    expect(ada?.identityPaths).toEqual(['/var/ssh/ssh_host_ed25519_key']);
    expect(ada?.secrets['mail-ada']).toMatchObject({
      owner: 'ada',
      mode: '0400',
      path: '/run/agenix/mail-ada',
    });
    expect(ada?.secrets['tailnet-key']).toMatchObject({ owner: 'root', mode: '0400' });
    expect(ada?.tailscale).toEqual({
      enable: true,
      authKeyFile: '/run/agenix/tailnet-key',
      extraUpFlags: ['--advertise-tags=tag:agent', '--login-server=https://hs.example.org'],
    });
    expect(ada?.warnings).toEqual([expect.stringContaining('agentfleet.adminKeys is empty')]);
  });

  it('has the seed home: terminal tools, Bitwarden CLI, aliases, git signed with its own SSH key, mail hosts', () => {
    const root = fleetWith([
      agent('ada', {
        shellAliases: { k: 'kubectl' },
        mail: {
          address: 'ada@example.org',
          passwordSecret: 'mail-ada',
          imap: { host: 'imap.example.net' },
          smtp: { host: 'smtp.example.net', port: 587 },
        },
      }),
    ]);
    const ada = systemsOf(root)['agent-ada'];
    expect(ada?.home?.packages).toEqual(
      expect.arrayContaining(['eza', 'htop', 'jq', 'fzf', 'ripgrep', 'bitwarden-cli', 'himalaya']),
    );
    expect(ada?.home?.shellAliases).toMatchObject({ ll: 'eza -l', k: 'kubectl' });
    expect(ada?.home?.git).toEqual({
      user: { name: 'ADA', email: 'ada@example.org' },
      signing: { format: 'ssh', key: '/home/ada/.ssh/id_ed25519.pub', signByDefault: true },
    });
    expect(ada?.services['agentfleet-user-ssh-key']).toMatchObject({
      serviceConfig: { User: 'ada', Type: 'oneshot' },
      unitConfig: { ConditionPathExists: '!/home/ada/.ssh/id_ed25519' },
    });
    expect(ada?.gnomeKeyring).toBe(true);
    // Before the host key is recorded, the password secret is not installed yet; himalaya is
    // configured all the same, reading it from where agenix will put it.
    expect(ada?.home?.mail.ada).toEqual({
      address: 'ada@example.org',
      passwordCommand: ['cat', '/run/agenix/mail-ada'],
      imap: { host: 'imap.example.net', port: 993 },
      smtp: { host: 'smtp.example.net', port: 587 },
    });
  });
});

describe('the evaluation itself', () => {
  it('fails on an option NixOS does not have, and on a value of the wrong type', () => {
    const unknown = fleetWith([agent('ada')], {
      'hosts/agent-ada/default.nix': '{ services.sshd.enabled = true; }\n',
    });
    expect(() => systemsOf(unknown)).toThrow(/The option `services\.sshd' does not exist/);
    const mistyped = fleetWith([agent('ada')], {
      'hosts/agent-ada/default.nix': '{ services.tailscale.extraUpFlags = "--ssh"; }\n',
    });
    expect(() => systemsOf(mistyped)).toThrow(
      /services\.tailscale\.extraUpFlags' is not of type `list of string'/,
    );
  });
});
