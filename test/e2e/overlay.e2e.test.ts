// Overlay disks on real libvirt + QEMU: an agent boots from a qcow2 overlay of the base, and
// fleet refuses to run that overlay on top of a different base image.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, stopPassts, systemUri } from '@agentfleet/testing';
import { fleet, fleetOk } from '@agentfleet/testing/fleet-cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const name = `o${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
const portBase = 20000 + Math.floor(Math.random() * 20000);
let dir: string;
let stateDir: string;
let otherBase: string;

const virsh = (...args: string[]) => execFileSync('virsh', ['-c', systemUri, ...args], { encoding: 'utf8' });

function writeFleet(baseImage: string): void {
  writeFileSync(
    join(dir, 'agents', 'fleet.yaml'),
    `libvirtUri: ${systemUri}\nstateDir: ${stateDir}\nbaseImage: ${baseImage}\ndomainType: qemu\ndiskMode: overlay\nreservedCores: []\nsshPorts: { start: ${portBase}, end: ${portBase + 50} }\nspicePorts: { start: ${portBase + 100}, end: ${portBase + 150} }\nssh: { user: root, identityFile: ${join(dir, 'id')} }\nbootTimeouts: { sshSeconds: 180, shutdownSeconds: 60 }\n`,
  );
}

beforeAll(async () => {
  await ensureLibvirtd();
  const image = await ensureTestImage();
  dir = mkdtempSync(join(tmpdir(), 'fleet-overlay-'));
  stateDir = join(dir, 'state');
  mkdirSync(join(dir, 'agents'));
  copyFileSync(image.privateKeyPath, join(dir, 'id'));
  otherBase = join(dir, 'other-base.qcow2');
  copyFileSync(image.baseImage, otherBase);
  writeFleet(image.baseImage);
  writeFileSync(
    join(dir, 'agents', `${name}.yaml`),
    `memory: 256MiB\nvcpus: 1\nshareCores: true\ndesktop: false\ngit: { email: ${name}@example.org }\n`,
  );
}, 240_000);

afterAll(() => {
  for (const cmd of ['destroy', 'undefine']) {
    try {
      virsh(cmd, `agent-${name}`);
    } catch {}
  }
  stopPassts([name]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.sequential('overlay disks', () => {
  it('an agent boots from a qcow2 overlay backed by the base image', { timeout: 240_000 }, async () => {
    const image = await ensureTestImage();
    await fleetOk(dir, ['up', '--no-provision']);
    const disk = join(stateDir, `agent-${name}.qcow2`);
    const info = JSON.parse(
      execFileSync('qemu-img', ['info', '--output=json', '-U', disk], { encoding: 'utf8' }),
    );
    expect(info['backing-filename']).toBe(image.baseImage);
    expect(statSync(disk).size).toBeLessThan(statSync(image.baseImage).size);
    expect((await fleet(dir, ['ssh', name, '--', 'true'])).code).toBe(0);
  });

  it('refuses to put the existing overlay on a different base image, and changes nothing', async () => {
    const disk = join(stateDir, `agent-${name}.qcow2`);
    await fleetOk(dir, ['down']);
    const before = readFileSync(disk);
    writeFleet(otherBase);
    // A blocked agent is a plan `up` cannot carry out: plan exits 1 and says why.
    const plan = await fleet(dir, ['plan', '--no-provision']);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toContain(`! agent ${name} is BLOCKED`);
    expect(plan.stdout).toContain('refusing to use a different base');
    const r = await fleet(dir, ['up', '--no-provision']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(`${name}: FAILED[\\s\\S]*is an overlay on .*refusing to use a different base`),
    );
    expect(virsh('domstate', `agent-${name}`).trim()).toBe('shut off');
    expect(readFileSync(disk).equals(before)).toBe(true);
  });
});
