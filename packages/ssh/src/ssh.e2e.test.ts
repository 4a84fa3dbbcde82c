import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  parsePublicKeyLine,
  publicKeyLine,
  renderKnownHosts,
  renderSshConfig,
  type SshPublicKey,
  type SshTarget,
} from '@agentfleet/core';
import { generateEd25519KeyPair } from '@agentfleet/secrets/openssh-key';
import { bootTestVm, ensureLibvirtd, run, type TestVm } from '@agentfleet/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectShell,
  HostKeyMismatchError,
  type ReadinessProgress,
  type SshShell,
  waitForSsh,
} from './index.js';

// Against the tiny test VM (dropbear) on real libvirt + QEMU.
describe('packages/ssh against a booting test VM', () => {
  let vm: TestVm;
  let tmp: string;
  let shell: SshShell;
  let recorded: SshPublicKey | undefined;
  const progress: ReadinessProgress[] = [];
  let target: SshTarget;

  beforeAll(async () => {
    await ensureLibvirtd();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'agentfleet-ssh-e2e-'));
    vm = await bootTestVm();
    target = {
      who: vm.name,
      host: '127.0.0.1',
      port: vm.sshPort,
      user: 'root',
      privateKey: await readFile(vm.image.privateKeyPath, 'utf8'),
      hostKey: {
        kind: 'first-contact',
        record: (k) => {
          recorded = k;
        },
      },
    };
    // Started right after `virsh start`: the stages must wait out the boot. The limit bounds a hang on a busy
    // 2-core machine that runs other suites' VMs too; it measures nothing.
    const ready = await waitForSsh(target, {
      stages: { banner: { timeoutMs: 600_000 } },
      onProgress: (p) => progress.push(p),
    });
    shell = ready.shell;
  }, 660_000);

  afterAll(async () => {
    await shell?.close();
    await vm?.remove();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('waits through the boot stage by stage and records the host key on first contact', () => {
    expect(progress.filter((p) => p.status === 'passed').map((p) => p.stage)).toEqual([
      'listening',
      'banner',
      'login',
    ]);
    expect(recorded && publicKeyLine(recorded)).toBe(publicKeyLine(shell.hostKey));
  });

  it('reads /var/ssh/ssh_host_ed25519_key.pub and finds the handshake key', async () => {
    const line = await shell.readFile('/var/ssh/ssh_host_ed25519_key.pub');
    expect(publicKeyLine(parsePublicKeyLine(line))).toBe(publicKeyLine(shell.hostKey));
  });

  it('streams output and returns exit codes from the guest', async () => {
    const seen: string[] = [];
    let opened = false;
    const done = shell.exec(
      'echo first; while [ ! -e /tmp/gate ]; do sleep 0.1; done; echo second >&2; exit 7',
      (c) => {
        seen.push(c);
        if (c.includes('first') && !opened) {
          opened = true;
          void shell.exec('touch /tmp/gate');
        }
      },
    );
    expect(await done).toBe(7);
    expect(seen.join('')).toBe('first\nsecond\n');
  });

  it('uploads a flake-like tree over SFTP (the guest runs dropbear + sftp-server)', async () => {
    const src = path.join(tmp, 'flake');
    await mkdir(path.join(src, 'secrets'), { recursive: true });
    await writeFile(path.join(src, 'flake.nix'), '{ }\n');
    await writeFile(path.join(src, 'secrets/x.age'), 'not really age\n');
    await shell.uploadDir(src, '/root/flake');
    const out: string[] = [];
    expect(await shell.exec('cat /root/flake/flake.nix /root/flake/secrets/x.age', (c) => out.push(c))).toBe(
      0,
    );
    expect(out.join('')).toBe('{ }\nnot really age\n');
  });

  it('pins the recorded key afterwards and refuses a different one', async () => {
    const again = await connectShell({ ...target, hostKey: { kind: 'pinned', key: shell.hostKey } });
    await again.close();
    const wrong = generateEd25519KeyPair('impostor').publicKey;
    await expect(connectShell({ ...target, hostKey: { kind: 'pinned', key: wrong } })).rejects.toBeInstanceOf(
      HostKeyMismatchError,
    );
  });

  it('writes an ssh_config + known_hosts that plain OpenSSH ssh accepts', async () => {
    const knownHosts = path.join(tmp, 'known_hosts');
    const config = path.join(tmp, 'ssh_config');
    await writeFile(
      knownHosts,
      renderKnownHosts([{ host: '127.0.0.1', port: vm.sshPort, key: shell.hostKey }]),
    );
    await writeFile(
      config,
      renderSshConfig(knownHosts, [
        {
          alias: 'drago',
          hostName: '127.0.0.1',
          port: vm.sshPort,
          user: 'root',
          identityFile: vm.image.privateKeyPath,
        },
      ]),
    );
    expect(await run('ssh', ['-F', config, '-o', 'BatchMode=yes', 'drago', 'echo via-openssh'])).toBe(
      'via-openssh\n',
    );
    // The same config with another pinned key must be refused by OpenSSH itself.
    const wrong = generateEd25519KeyPair('impostor').publicKey;
    await writeFile(knownHosts, renderKnownHosts([{ host: '127.0.0.1', port: vm.sshPort, key: wrong }]));
    const err = await run('ssh', ['-F', config, '-o', 'BatchMode=yes', 'drago', 'true']).catch((e) => e);
    expect(err.stderr).toMatch(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });
});
