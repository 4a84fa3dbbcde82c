// Shares (agent YAML shares:, virtiofs) on real libvirt + QEMU (TCG) through the built CLI, on one agent with a
// read-only and a read-write share: the host's files in the guest, the read-only one unwritable by the guest's root even
// after it remounts it read-write (the host enforces it), the read-write one written back, both again after a restart;
// and `fleet ssh NAME -- CMD` with a TTY when its stdin is a terminal, without one when piped.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, portBlock, systemUri, type TestImage } from '@agentfleet/testing';
import { fleet, fleetOk } from '@agentfleet/testing/fleet-cli';
import { removeDomains, writeAgent, writeFleetConfig } from '@agentfleet/testing/provision-fixture';
import { fleetInPty } from '@agentfleet/testing/terminal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Generous: TCG guests on a shared 2-core host have taken minutes to boot under load.
const VM_TIMEOUT = 660_000;
const A = `sh${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 2).toString(36)}`;
const portBase = portBlock();

let dir: string;
let projects: string;
let out: string;
let image: TestImage;

const virsh = (...args: string[]) => execFileSync('virsh', ['-c', systemUri, ...args], { encoding: 'utf8' });
/** The command's output lines in the guest (as root), without fleet exec's prefixes and summary. */
const run = async (command: string) =>
  (await fleetOk(dir, ['exec', A, '--', command])).stdout
    .split('\n')
    .filter((l) => l.startsWith(`${A} | `))
    .map((l) => l.slice(A.length + 3))
    .join('\n');

/** Runs `fleet ssh A -- command` with a pty as its terminal; resolves with what it printed. */
const sshInPty = (command: string) => fleetInPty(dir, ['ssh', A, '--', command]);

const writeAgentWith = (shares: string) =>
  // QEMU's own forward (network: open): this suite tests no networking, and on this loaded shared host passt
  // guests have gone minutes without an SSH banner (see day2.e2e.test.ts).
  writeAgent(dir, A, [], `network: open\nshares:\n${shares}`);

beforeAll(async () => {
  await ensureLibvirtd();
  image = await ensureTestImage();
  dir = mkdtempSync(join(tmpdir(), 'shares-e2e-'));
  // Beside the state dir, not around it: a share holding the state dir is refused.
  projects = join(dir, 'host', 'projects');
  out = join(dir, 'host', 'out');
  mkdirSync(projects, { recursive: true });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(projects, 'before-boot.txt'), 'from the host before boot\n');
  await writeFleetConfig(dir, image, join(dir, 'state'), portBase, {
    portForward: 'hostfwd',
    flake: undefined,
    sshPorts: `{ start: ${portBase}, end: ${portBase + 9} }`,
    spicePorts: `{ start: ${portBase + 10}, end: ${portBase + 19} }`,
  });
}, VM_TIMEOUT);

afterAll(() => {
  if (!dir) return;
  removeDomains([A], join(dir, 'state'));
  rmSync(dir, { recursive: true, force: true });
});

describe.sequential('shares and ssh with a TTY on a real VM', () => {
  it('validate refuses a share holding the state dir and a missing directory, naming file, line and field', async () => {
    await writeAgentWith(
      '  - { source: ., target: /mnt/fleet }\n  - { source: host/nope, target: /mnt/nope }\n',
    );
    const r = await fleet(dir, ['validate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `agents/${A}.yaml:9:15: shares.0.source: ${dir} contains the fleet's state dir (agents' disks and host keys)`,
    );
    expect(r.stderr).toContain(`agents/${A}.yaml:10:15: shares.1.source: ${dir}/host/nope does not exist`);
    // `up` refuses the same way, before anything is made.
    expect((await fleet(dir, ['up', '--no-provision'])).code).toBe(2);
    expect(existsSync(join(dir, 'state', `agent-${A}.qcow2`))).toBe(false);
  });

  it(
    'up mounts the host directory in the guest: a file from before boot, and one written after',
    async () => {
      await writeAgentWith(
        '  - { source: host/projects, target: /mnt/projects }\n' +
          '  - { source: host/out, target: /mnt/out, readOnly: false }\n',
      );
      await fleetOk(dir, ['up', '--no-provision']);
      expect(await run('cat /mnt/projects/before-boot.txt')).toBe('from the host before boot');
      writeFileSync(join(projects, 'after-boot.txt'), 'written while the guest runs\n');
      expect(await run('cat /mnt/projects/after-boot.txt')).toBe('written while the guest runs');
      // The read-only share runs behind fleet's wrapper, the read-write one behind libvirt's own virtiofsd.
      const devices = virsh('dumpxml', `agent-${A}`).match(/<filesystem[\s\S]*?<\/filesystem>/g) ?? [];
      expect(devices).toHaveLength(2);
      expect(devices.find((d) => d.includes(`<source dir='${projects}'/>`))).toMatch(
        /<binary path='[^']*\/packages\/engine\/libexec\/virtiofsd-readonly'\/>/,
      );
      expect(devices.find((d) => d.includes(`<source dir='${out}'/>`))).not.toContain('virtiofsd-readonly');
    },
    VM_TIMEOUT,
  );

  it("the guest's root cannot write to the read-only share, not even after remounting it read-write", async () => {
    const attempt = [
      'echo x > /mnt/projects/new.txt; echo create=$?',
      'rm /mnt/projects/before-boot.txt; echo remove=$?',
      'mount -o remount,rw /mnt/projects; echo remount=$?',
      'grep " /mnt/projects " /proc/mounts',
      'echo x > /mnt/projects/new.txt; echo create-after-remount=$?',
      'echo x >> /mnt/projects/before-boot.txt; echo append-after-remount=$?',
      'id -u',
    ].join('; ');
    const said = await run(`{ ${attempt}; } 2>&1`);
    expect(said).toMatch(/^create=[1-9]/m);
    expect(said).toMatch(/^remove=[1-9]/m);
    // The guest's own protection is gone: its mount now says rw...
    expect(said).toMatch(/^remount=0$/m);
    expect(said).toMatch(/^projects \/mnt\/projects virtiofs rw[,\s]/m);
    // ...and still every write fails, because the host serves a read-only bind mount.
    expect(said).toMatch(/^create-after-remount=[1-9]/m);
    expect(said).toMatch(/^append-after-remount=[1-9]/m);
    expect(said).toContain('Read-only file system');
    expect(said).toMatch(/^0$/m);
    expect(readdirSync(projects).sort()).toEqual(['after-boot.txt', 'before-boot.txt']);
    expect(readFileSync(join(projects, 'before-boot.txt'), 'utf8')).toBe('from the host before boot\n');
  }, 120_000);

  it('the read-write share takes what the guest writes, modes included (the residual risk README states)', async () => {
    await run(
      'echo from-the-guest > /mnt/out/result.txt; cp /bin/busybox /mnt/out/suid; chmod 4755 /mnt/out/suid',
    );
    expect(readFileSync(join(out, 'result.txt'), 'utf8')).toBe('from-the-guest\n');
    // virtiofsd runs as root and passes the guest's owner and mode through: a setuid-root file lands on the host.
    const suid = statSync(join(out, 'suid'));
    expect(suid.uid).toBe(0);
    expect(suid.mode & 0o7777).toBe(0o4755);
  }, 120_000);

  it(
    'both shares are mounted again after a restart',
    async () => {
      const bootBefore = await run('cat /proc/sys/kernel/random/boot_id');
      expect((await fleetOk(dir, ['restart', A])).stdout).toContain(`${A}: restarted`);
      expect(await run('cat /proc/sys/kernel/random/boot_id')).not.toBe(bootBefore);
      expect(await run('cat /mnt/projects/after-boot.txt /mnt/out/result.txt')).toBe(
        'written while the guest runs\nfrom-the-guest',
      );
      expect(
        await run('echo again > /mnt/out/again.txt; echo x > /mnt/projects/x 2>/dev/null; echo ro=$?'),
      ).toMatch(/^ro=[1-9]/);
      expect(readFileSync(join(out, 'again.txt'), 'utf8')).toBe('again\n');
    },
    VM_TIMEOUT,
  );

  it('ssh -- CMD gets a TTY when its stdin is a terminal (what tmux attach needs), none when piped', async () => {
    const tty = await sshInPty('tty; test -t 0 && echo STDIN-IS-A-TTY');
    expect(tty.out).toMatch(/^\/dev\/pts\/\d+\r?$/m);
    expect(tty.out).toContain('STDIN-IS-A-TTY');
    expect(tty.code).toBe(0);
    // Piped (the helper's stdin is /dev/null): no TTY, so output stays byte-exact for scripts.
    const piped = await fleet(dir, ['ssh', A, '--', 'tty']);
    expect(piped.stdout).toBe('not a tty\n');
    expect(piped.code).toBe(1);
  }, 120_000);
});
