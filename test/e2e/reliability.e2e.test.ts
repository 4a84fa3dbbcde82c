// Faults an operator meets, through the built CLI on real libvirt + QEMU (TCG) with the tiny image: a failed `up`
// whose label goes once provisioning finishes, a guest that reboots in the middle of provisioning, a lost state.json with a changed guest key, a disk deleted by hand and
// libvirtd restarted. One agent VM serves every case, on a libvirtd of this file's own: restarting it touches no
// other test's daemon.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTestImage, portBlock, type TestImage } from '@agentfleet/testing';
import { fleet, fleetOk, fleetSpawn } from '@agentfleet/testing/fleet-cli';
import { type PrivateLibvirtd, startPrivateLibvirtd } from '@agentfleet/testing/private-libvirtd';
import { makeSecretsFleet, writeAgent, writeFleetConfig } from '@agentfleet/testing/provision-fixture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LIMIT = 400_000;
/** A bound on a run that should end (keepalive ~20 s + reboot + rebuild): past it the run counts as hung. */
const HUNG_MS = 300_000;
const agent = `rl${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
const SECRET = `${agent}-token`;
const PLAINTEXT = `secret of ${agent}\n`;
const portBase = portBlock();

let dir: string;
let stateDir: string;
let image: TestImage;
let daemon: PrivateLibvirtd | undefined;
let daemonDir: string | undefined;

const agentState = async () => JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')).agents[agent];
const inAgent = async (command: string) => (await fleetOk(dir, ['ssh', agent, '--', command])).stdout;
const agentStatus = async () =>
  JSON.parse((await fleetOk(dir, ['--json', 'status', agent])).stdout).agents[0];

beforeAll(async () => {
  image = await ensureTestImage();
  daemonDir = await mkdtemp(join(tmpdir(), 'reliab-libvirtd-'));
  daemon = startPrivateLibvirtd({ dir: daemonDir });
  await daemon.ready();
  const fleetRepo = await makeSecretsFleet(
    { [agent]: [SECRET] },
    { [SECRET]: PLAINTEXT },
    image.privateKeyPath,
  );
  dir = fleetRepo.dir;
  stateDir = join(dir, 'state');
  await writeFleetConfig(dir, image, stateDir, portBase, { libvirtUri: daemon.uri });
  // These faults are not about networking: QEMU's own forward keeps passt out of the picture.
  await writeAgent(dir, agent, [SECRET], 'network: open\n');
  // The two-phase flow (phase 1 is interrupted below), and a guest that makes its own host key (forgotten below).
  await fleetOk(dir, ['up', '--no-pregenerate-host-keys']);
}, LIMIT);

afterAll(async () => {
  daemon?.stop([`agent-${agent}`]);
  if (dir) await rm(dir, { recursive: true, force: true });
  if (daemonDir) await rm(daemonDir, { recursive: true, force: true });
});

describe.sequential('reliability under faults', () => {
  it(
    'a guest rebooted during phase 1: provisioning waits for it, retries the step once, finishes, frees the lock',
    async () => {
      // First a failed `up` (phase 1 refused by the image's stand-in nixos-rebuild): `status` labels the agent
      // failed until the provisioning below finishes it, and no longer after (issue #12: stale "(failed)" labels).
      await writeFile(join(dir, 'FAIL_REBUILD'), '');
      try {
        await fleet(dir, ['provision', agent, '--from', 'phase1']);
        const failed = await fleet(dir, ['up']);
        expect(failed.code, failed.stdout + failed.stderr).toBe(1);
      } finally {
        await rm(join(dir, 'FAIL_REBUILD'), { force: true });
      }
      expect((await agentStatus()).lastError).toMatch(/phase1/);
      expect((await fleetOk(dir, ['status', agent])).stdout).toContain('(phase1 failed)');
      // Bulk in the flake makes phase 1's upload last long enough to reboot the guest in the middle of it
      // (4 MiB and a 1 s delay let a quiet machine finish the upload first).
      await writeFile(join(dir, 'bulk.bin'), randomBytes(16 * 1024 * 1024));
      try {
        const child = fleetSpawn(dir, ['provision', agent, '--from', 'phase1']);
        let output = '';
        // 'close', not 'exit': the output asserted below may still be in the pipe when the process has exited.
        const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
        child.stdout.on('data', (d) => {
          output += d;
        });
        child.stderr.on('data', (d) => {
          output += d;
        });
        while (!output.includes(`${agent}: phase1...`)) {
          if (child.exitCode !== null) throw new Error(`fleet provision ended before phase 1:\n${output}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        // Detached, so this ssh returns at once; `reboot -f` then drops fleet's session without a word.
        await fleetOk(dir, [
          'ssh',
          agent,
          '--',
          'setsid sh -c "sleep 0.2; reboot -f" </dev/null >/dev/null 2>&1 &',
        ]);
        const code = await Promise.race([
          exited,
          new Promise<'hung'>((r) => setTimeout(() => r('hung'), HUNG_MS)),
        ]);
        if (code === 'hung') child.kill('SIGKILL');
        // Everything fleet said and logged, when it fails.
        const log = await readFile(join(stateDir, 'logs', `agent-${agent}.provision.log`), 'utf8').catch(
          () => '',
        );
        output += `\n--- provision log\n${log}`;
        // And what the guest said after the reboot (once, at load 13, it never answered SSH again).
        const consoleLog = await readFile(join(stateDir, `agent-${agent}.console.log`), 'utf8').catch(
          () => '',
        );
        output += `\n--- console (last lines)\n${consoleLog.split('\n').slice(-40).join('\n')}`;
        expect(output).not.toMatch(/\n\s+at .*\.js:\d+/); // no raw stack trace
        expect(code, output).toBe(0);
        expect(output).toContain(`${agent}: provisioned (phase1, hostkey, rekeyed, phase2, ready)`);
        expect(log).toMatch(/connection to .* lost during .*retrying phase1 once/);
        expect(existsSync(join(stateDir, 'fleet.lock'))).toBe(false);
        expect((await agentState()).provision.done).toBe('ready');
        expect(await inAgent(`cat /run/agenix/${SECRET}`)).toBe(PLAINTEXT);
        expect(await agentStatus()).toMatchObject({ phase: 'ready', failedStep: null, lastError: null });
        expect((await fleetOk(dir, ['status', agent])).stdout).not.toContain('failed');
      } finally {
        await rm(join(dir, 'bulk.bin'), { force: true });
      }
    },
    LIMIT,
  );

  it(
    'state.json lost and the guest key changed: the key committed in secrets/hosts still pins it, the guest is refused',
    async () => {
      const pinFile = join(dir, 'secrets', 'hosts', `${agent}.pub`);
      const committed = await readFile(pinFile, 'utf8');
      // The guest forgets its host key (it makes a new one at boot), and fleet forgets its state.
      await inAgent('rm -f /boot/agentfleet/ssh_host_ed25519_key && sync');
      await fleetOk(dir, ['down']);
      await rm(join(stateDir, 'state.json'));
      const refused = await fleet(dir, ['up']);
      expect(refused.code, refused.stdout + refused.stderr).toBe(1);
      expect(refused.stdout).toContain('does not match its pinned key');
      expect(await readFile(pinFile, 'utf8')).toBe(committed);
      // known_hosts, rebuilt after the run, keeps the committed pin too (plain `ssh -F` refuses the guest as well).
      const [type, key] = committed.trim().split(/\s+/);
      expect(await readFile(join(stateDir, 'known_hosts'), 'utf8')).toContain(`${type} ${key}`);
    },
    LIMIT,
  );

  it(
    'a disk deleted by hand, and libvirtd restarted while the up that recovers it runs: the run reconnects and ' +
      'finishes, the new guest pinned and provisioned, no manual step',
    async () => {
      await fleetOk(dir, ['down']);
      await rm(join(stateDir, `agent-${agent}.qcow2`));
      const child = fleetSpawn(dir, ['up']);
      let output = '';
      let paused: (atStart: string) => void = () => {};
      const stopped = new Promise<string>((r) => {
        paused = r;
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const collect = (d: Buffer) => {
        output += d;
        // Frozen as soon as the disk step shows, so the libvirt steps after it (define, start) certainly run on
        // the connection the restart closed.
        if (output.includes(`${agent}: create-disk`) && child.pid && !child.killed) {
          child.kill('SIGSTOP');
          paused(output);
        }
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      const atStop = await Promise.race([
        stopped,
        exited.then(() => `fleet up ended before create-disk:\n${output}`),
      ]);
      expect(atStop).not.toContain(`${agent}: start`);
      await daemon?.restart();
      child.kill('SIGCONT');
      const code = await exited;
      expect(code, output).toBe(0);
      expect(output).not.toMatch(/client socket is closed/);
      const pin = (await readFile(join(dir, 'secrets', 'hosts', `${agent}.pub`), 'utf8')).trim();
      expect((await agentState()).hostKey).toBe(pin);
      expect(await readFile(join(stateDir, 'known_hosts'), 'utf8')).toContain(pin);
      expect((await agentState()).provision.done).toBe('ready');
      expect(await inAgent(`cat /run/agenix/${SECRET}`)).toBe(PLAINTEXT);
    },
    LIMIT,
  );
});
