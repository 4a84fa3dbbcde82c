// Overlay disks on real libvirt + QEMU: an agent boots from a qcow2 overlay of the base, and
// fleet refuses to run that overlay on top of a different base image.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, portBlock, systemUri, type TestImage } from '@agentfleet/testing';
import { fleet, fleetOk } from '@agentfleet/testing/fleet-cli';
import { removeDomains, writeAgent, writeFleetConfig } from '@agentfleet/testing/provision-fixture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const name = `o${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
// Generous: TCG guests on a loaded 2-core machine have taken minutes to boot (and to power off); a bound on a hang.
const VM_TIMEOUT = 660_000;
const portBase = portBlock();
let image: TestImage;
let dir: string;
let stateDir: string;
let otherBase: string;

const virsh = (...args: string[]) => execFileSync('virsh', ['-c', systemUri, ...args], { encoding: 'utf8' });

const writeFleet = (baseImage: string) =>
  writeFleetConfig(dir, image, stateDir, portBase, {
    baseImage,
    flake: undefined,
    ssh: `{ user: root, identityFile: ${join(dir, 'id')} }`,
  });

beforeAll(async () => {
  await ensureLibvirtd();
  image = await ensureTestImage();
  dir = mkdtempSync(join(tmpdir(), 'fleet-overlay-'));
  stateDir = join(dir, 'state');
  copyFileSync(image.privateKeyPath, join(dir, 'id'));
  otherBase = join(dir, 'other-base.qcow2');
  copyFileSync(image.baseImage, otherBase);
  await writeFleet(image.baseImage);
  await writeAgent(dir, name, []);
}, VM_TIMEOUT);

afterAll(() => {
  removeDomains([name], stateDir);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.sequential('overlay disks', () => {
  it('an agent boots from a qcow2 overlay backed by the base image', { timeout: VM_TIMEOUT }, async () => {
    await fleetOk(dir, ['up', '--no-provision']);
    const disk = join(stateDir, `agent-${name}.qcow2`);
    const info = JSON.parse(
      execFileSync('qemu-img', ['info', '--output=json', '-U', disk], { encoding: 'utf8' }),
    );
    // The base by its real path: fleet resolves links (a checkout's .cache may be one).
    expect(info['backing-filename']).toBe(realpathSync(image.baseImage));
    expect(statSync(disk).size).toBeLessThan(statSync(image.baseImage).size);
    expect((await fleet(dir, ['ssh', name, '--', 'true'])).code).toBe(0);
  });

  // `down` waits for the guest's ACPI power-off: seconds when idle, longer than vitest's 30 s default under load.
  it('refuses to put the existing overlay on a different base image, and changes nothing', {
    timeout: VM_TIMEOUT,
  }, async () => {
    const disk = join(stateDir, `agent-${name}.qcow2`);
    await fleetOk(dir, ['down']);
    const before = readFileSync(disk);
    await writeFleet(otherBase);
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
