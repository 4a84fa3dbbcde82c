// A throwaway fleet repository with agenix secrets, for provisioning tests and benchmarks: the
// repository's own secrets.nix + hosts/keys.nix, an agents.json saying who gets what, an admin
// key made here, and each secret encrypted to that admin only (the seeds' "before deployment").
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AgentConnector, parsePublicKeyLine, publicKeyLine, type SshTarget } from '@agentfleet/core';
import { connectShell, waitForSsh } from '@agentfleet/ssh';
import {
  removeFleetFirewall,
  repoRoot,
  stopPassts,
  systemUri,
  type TestImage,
  type TestVm,
} from './index.js';

export interface SecretsFleet {
  dir: string;
  /** Admin private key (OpenSSH ed25519): the identity that can decrypt every secret. */
  adminKey: string;
}

export async function makeSecretsFleet(
  agents: Record<string, string[]>,
  plaintexts: Record<string, string>,
  /** An existing admin key (e.g. the one fleet logs in with); default: a new one. */
  existingAdminKey?: string,
): Promise<SecretsFleet> {
  const dir = await mkdtemp(join(tmpdir(), 'agentfleet-prov-fleet-'));
  // A git repository, as fleet requires of a local flake: what git ignores (keys made here, copied
  // disks) is never uploaded to an agent.
  execFileSync('git', ['-C', dir, 'init', '-q']);
  await writeFile(join(dir, '.gitignore'), '*_ed25519\n*_ed25519.pub\n*.qcow2\n');
  await mkdir(join(dir, 'secrets', 'admins'), { recursive: true });
  await mkdir(join(dir, 'secrets', 'hosts'), { recursive: true });
  await mkdir(join(dir, 'hosts'), { recursive: true });
  await copyFile(join(repoRoot, 'secrets', 'secrets.nix'), join(dir, 'secrets', 'secrets.nix'));
  await copyFile(join(repoRoot, 'hosts', 'keys.nix'), join(dir, 'hosts', 'keys.nix'));
  const entries = Object.entries(agents).map(([name, secrets]) => [name, { secrets }]);
  await writeFile(join(dir, 'hosts', 'agents.json'), JSON.stringify({ agents: Object.fromEntries(entries) }));
  await writeFile(join(dir, 'flake.nix'), '{ outputs = _: { }; }\n');
  const adminKey = existingAdminKey ?? sshKeygen(join(dir, 'admin_ed25519'), 'admin');
  await copyFile(`${adminKey}.pub`, join(dir, 'secrets', 'admins', 'admin.pub'));
  for (const [name, text] of Object.entries(plaintexts)) encryptToAdmin({ dir, adminKey }, name, text);
  return { dir, adminKey };
}

/** (Re)writes secrets/<name>.age encrypted to the admin only, with the real `age`. */
export function encryptToAdmin(fleet: SecretsFleet, name: string, plaintext: string): void {
  execFileSync('age', ['-R', `${fleet.adminKey}.pub`, '-o', join(fleet.dir, 'secrets', `${name}.age`)], {
    input: plaintext,
  });
}

/** A fresh ed25519 key pair made with ssh-keygen; returns the private key path. */
export function sshKeygen(path: string, comment = 'test'): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  return path;
}

/** Root login on a test VM with the image's key. */
function vmTarget(
  agent: string,
  vm: Pick<TestVm, 'sshPort'>,
  loginKey: string,
  hostKey: SshTarget['hostKey'],
): SshTarget {
  return { who: agent, host: '127.0.0.1', port: vm.sshPort, user: 'root', privateKey: loginKey, hostKey };
}

/** Connects to each agent's test VM like fleet does: pinned, unless a new key was confirmed. */
export function vmConnector(
  vmOf: (agent: string) => Pick<TestVm, 'sshPort'>,
  loginKey: string,
): AgentConnector {
  return {
    connect: (agent, opts = {}) =>
      connectShell(
        vmTarget(
          agent,
          vmOf(agent),
          loginKey,
          opts.acceptNewHostKey || opts.pinnedHostKey === undefined
            ? { kind: 'first-contact', record: () => {} }
            : { kind: 'pinned', key: parsePublicKeyLine(opts.pinnedHostKey) },
        ),
      ),
  };
}

/**
 * Waits for the VM's SSH and returns the host key it presents: what `fleet up` pins. The boot's bound is generous
 * (waitForSsh's 180 s is less than TCG boots have taken on a loaded 2-core machine); it measures nothing.
 */
export async function awaitHostKey(agent: string, vm: TestVm, loginKey: string): Promise<string> {
  const ready = await waitForSsh(vmTarget(agent, vm, loginKey, { kind: 'first-contact', record: () => {} }), {
    stages: { banner: { timeoutMs: 600_000 } },
  });
  await ready.shell.close();
  return publicKeyLine(ready.shell.hostKey);
}

/** Runs a command in the agent's VM over a pinned session; resolves with exit code and stdout. */
export async function inVm(
  connector: AgentConnector,
  agent: string,
  pinnedHostKey: string,
  command: string,
): Promise<{ code: number; out: string }> {
  const shell = await connector.connect(agent, { pinnedHostKey });
  let out = '';
  try {
    const code = await shell.exec(command, (chunk, stream) => {
      if (stream === 'stdout') out += chunk;
    });
    return { code, out };
  } finally {
    await shell.close();
  }
}

/**
 * agents/fleet.yaml for the test image on the system libvirtd, ports from `portBase` (ssh from it, SPICE 100 above),
 * state in `stateDir`; `settings` replaces or adds top-level keys (e.g. `{ diskMode: 'copy', network: 'open' }`),
 * and drops the ones it sets to undefined.
 */
export async function writeFleetConfig(
  dir: string,
  image: TestImage,
  stateDir: string,
  portBase: number,
  settings: Record<string, string | undefined> = {},
) {
  const fleet: Record<string, string | undefined> = {
    libvirtUri: systemUri,
    stateDir,
    baseImage: image.baseImage,
    flake: '.',
    domainType: 'qemu',
    portForward: 'auto',
    diskMode: 'overlay',
    reservedCores: '[]',
    sshPorts: `{ start: ${portBase}, end: ${portBase + 20} }`,
    spicePorts: `{ start: ${portBase + 100}, end: ${portBase + 120} }`,
    ssh: `{ user: root, identityFile: ${image.privateKeyPath} }`,
    // Bounds on a hang, not measures: TCG guests on a loaded 2-core machine have taken minutes to boot.
    bootTimeouts: '{ sshSeconds: 600, shutdownSeconds: 120 }',
    ...settings,
  };
  await mkdir(join(dir, 'agents'), { recursive: true });
  await writeFile(
    join(dir, 'agents', 'fleet.yaml'),
    `${Object.entries(fleet)
      .flatMap(([k, v]) => (v === undefined ? [] : [`${k}: ${v}`]))
      .join('\n')}\n`,
  );
}

/** agents/<name>.yaml: a tiny agent that gets `secrets`; `extra` adds YAML lines (e.g. `network: open\n`). */
export async function writeAgent(dir: string, name: string, secrets: string[], extra = '') {
  await writeFile(
    join(dir, 'agents', `${name}.yaml`),
    `memory: 256MiB\nvcpus: 1\nshareCores: true\ndesktop: false\ngit: { email: ${name}@example.org }\nsecrets: [${secrets.join(', ')}]\n${extra}`,
  );
}

/**
 * Destroys and undefines agents' domains on the system libvirtd and stops their passts (test clean-up; the product
 * never uses virsh); with the fleet's `stateDir`, also its nftables table, which fleet removes only with its last
 * passt.
 */
export function removeDomains(agents: readonly string[], stateDir?: string) {
  for (const agent of agents) {
    for (const cmd of ['destroy', 'undefine']) {
      try {
        execFileSync('virsh', ['-c', systemUri, cmd, `agent-${agent}`], { stdio: 'ignore' });
      } catch {}
    }
  }
  stopPassts(agents);
  if (stateDir !== undefined) removeFleetFirewall(stateDir);
}
