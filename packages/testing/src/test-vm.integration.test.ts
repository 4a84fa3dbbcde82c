import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bootTestVm,
  ensureLibvirtd,
  opensshArgs,
  opensshExec,
  presentedHostKey,
  type RunError,
  run,
  spiceHandshake,
  type TestVm,
  writeKnownHosts,
} from './index.js';

// The test image stands in for the NixOS agent image; these tests pin down what other tests rely on.
describe('tiny test VM', () => {
  let tmp: string;
  let a: TestVm; // two clones of one base image
  let b: TestVm;
  let c: TestVm; // gets its host key via fw_cfg
  let vms: TestVm[] = [];
  let extraKey: string;
  let fwHostKey: string;
  const known = (vm: TestVm) => path.join(tmp, `${vm.name}.known_hosts`);
  const ssh = (vm: TestVm, cmd: string) => opensshExec(vm.sshPort, vm.image.privateKeyPath, known(vm), cmd);
  const ready = /AGENTFLEET READY/;

  async function pinFirstContact(vm: TestVm): Promise<string> {
    const key = await presentedHostKey(vm.sshPort);
    await writeKnownHosts(known(vm), vm.sshPort, key);
    return key;
  }

  beforeAll(async () => {
    await ensureLibvirtd();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'agentfleet-vmtest-'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, 'extra')]);
    extraKey = (await readFile(path.join(tmp, 'extra.pub'), 'utf8')).trim();
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, 'fwhost')]);
    fwHostKey = (await readFile(path.join(tmp, 'fwhost.pub'), 'utf8'))
      .trim()
      .split(' ')
      .slice(0, 2)
      .join(' ');
    const booted = await Promise.allSettled([
      bootTestVm({ fwcfg: { authorized_keys: `${extraKey}\n`, hostname: 'agent-a' } }),
      bootTestVm(),
      bootTestVm({ fwcfg: { ssh_host_ed25519_key: { file: path.join(tmp, 'fwhost') } } }),
    ]);
    vms = booted.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = booted.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    [a, b, c] = vms as [TestVm, TestVm, TestVm];
    // Generous: bounds a hang on a busy 2-core machine running other suites' VMs too; it measures nothing.
    await Promise.all([a, b, c].map((vm) => vm.waitForConsole(ready, 600_000)));
  }, 660_000);

  afterAll(async () => {
    await Promise.all(vms.map((vm) => vm.remove()));
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('boots to SSH and serves the /var/ssh host key it generated', async () => {
    const presented = await pinFirstContact(a);
    expect(await ssh(a, 'hostname')).toBe('agent-a\n');
    const onDisk = (await ssh(a, 'cat /var/ssh/ssh_host_ed25519_key.pub'))
      .trim()
      .split(' ')
      .slice(0, 2)
      .join(' ');
    expect(onDisk).toBe(presented);
    expect(await ssh(a, 'head -1 /var/ssh/ssh_host_ed25519_key')).toBe(
      '-----BEGIN OPENSSH PRIVATE KEY-----\n',
    );
    await a.waitForConsole(/AGENTFLEET HOSTKEY \(generated\)/, 1000);
  });

  it('accepts a key given through fw_cfg opt/agentfleet/authorized_keys', async () => {
    await pinFirstContact(a);
    const out = await opensshExec(a.sshPort, path.join(tmp, 'extra'), known(a), 'echo extra-key-ok');
    expect(out).toBe('extra-key-ok\n');
    // b did not get the extra key.
    await pinFirstContact(b);
    const refused = await opensshExec(b.sshPort, path.join(tmp, 'extra'), known(b), 'true').catch((e) => e);
    expect((refused as RunError).stderr).toMatch(/Permission denied/);
  });

  it('gives two disks made from one base different host keys', async () => {
    const [ka, kb] = await Promise.all([presentedHostKey(a.sshPort), presentedHostKey(b.sshPort)]);
    expect(ka).toMatch(/^ssh-ed25519 AAAA/);
    expect(kb).toMatch(/^ssh-ed25519 AAAA/);
    expect(ka).not.toBe(kb);
  });

  it('uses the host key given through fw_cfg opt/agentfleet/ssh_host_ed25519_key (a file: kept out of ps)', async () => {
    expect(await presentedHostKey(c.sshPort)).toBe(fwHostKey);
    const cmdlines = await run('ps', ['-eo', 'args']);
    expect(cmdlines).toContain(`name=opt/agentfleet/ssh_host_ed25519_key,file=${path.join(tmp, 'fwhost')}`);
    expect(cmdlines).not.toContain('PRIVATE KEY');
    await c.waitForConsole(/AGENTFLEET HOSTKEY \(fw_cfg\)/, 1000);
  });

  it('answers a SPICE link handshake', async () => {
    const reply = await spiceHandshake('127.0.0.1', a.spicePort);
    expect(reply.major).toBe(2);
    expect(reply.firstMessageType).toBe(103);
  });

  it('runs a fake nixos-rebuild that decrypts with the host key only what it can open', async () => {
    const hostKey = await pinFirstContact(b);
    const flake = path.join(tmp, 'flake');
    await mkdir(path.join(flake, 'secrets'), { recursive: true });
    await writeFile(path.join(tmp, 'b.pub'), `${hostKey}\n`);
    await run('age', ['-R', path.join(tmp, 'b.pub'), '-o', path.join(flake, 'secrets/token.age')], {
      input: 's3cret-for-b\n',
    });
    await run('age', ['-R', path.join(tmp, 'extra.pub'), '-o', path.join(flake, 'secrets/other.age')], {
      input: 'not for b\n',
    });
    // OpenSSH's scp speaks SFTP: this also proves the guest's sftp-server works.
    const sshOpts = opensshArgs(b.sshPort, b.image.privateKeyPath, known(b));
    await run('scp', ['-r', '-P', String(b.sshPort), ...sshOpts.slice(2), flake, 'root@127.0.0.1:/root/']);

    const out = await ssh(b, 'sudo nixos-rebuild switch --flake /root/flake#agent-b 2>&1');
    expect(out).toMatch(/agenix: decrypted token/);
    expect(out).toMatch(/cannot decrypt other/);
    expect(await ssh(b, 'cat /run/agenix/token')).toBe('s3cret-for-b\n');
    expect(await ssh(b, 'ls /run/agenix')).toBe('token\n');
    expect(await ssh(b, 'head -1 /var/log/nixos-rebuild.log')).toBe('switch --flake /root/flake#agent-b\n');

    await ssh(b, 'touch /root/flake/FAIL_REBUILD');
    const failed = (await ssh(b, 'nixos-rebuild switch --flake /root/flake#agent-b').catch(
      (e) => e,
    )) as RunError;
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toMatch(/FAIL_REBUILD/);
  });

  it('keeps its host key across an ACPI shutdown and a new start', async () => {
    const before = await presentedHostKey(a.sshPort);
    await a.shutdown();
    await a.waitForConsole(/AGENTFLEET POWEROFF/, 1000);
    const offset = await a.consoleOffset();
    await a.start();
    await a.waitForConsole(ready, 600_000, offset);
    await a.waitForConsole(/AGENTFLEET HOSTKEY \(disk\)/, 1000, offset);
    expect(await presentedHostKey(a.sshPort)).toBe(before);
  }, 660_000);
});
