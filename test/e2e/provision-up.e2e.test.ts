// `fleet up` through the built CLI, provisioning included: killed (SIGKILL) between the two
// phases, the next `fleet up` resumes from the recorded step without repeating phase 1, and the
// agent ends with its secret decrypted by its own host key. Real libvirt + QEMU (TCG), real ssh,
// real age, the tiny image standing in for NixOS.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, portBlock, type TestImage } from '@agentfleet/testing';
import { fleet, fleetOk, fleetSpawn } from '@agentfleet/testing/fleet-cli';
import {
  inVm,
  makeSecretsFleet,
  removeDomains,
  vmConnector,
  writeAgent,
  writeFleetConfig,
} from '@agentfleet/testing/provision-fixture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LIMIT = 300_000;
const agent = `p${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
const SECRET = `${agent}-token`;
const PLAINTEXT = `secret of ${agent}\n`;
const portBase = portBlock();

let dir: string;
let stateDir: string;
let image: TestImage;
let loginKey: string;

interface AgentState {
  phase: string;
  provision?: { done?: string };
}
async function agentState(): Promise<AgentState | undefined> {
  try {
    return JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')).agents[agent];
  } catch {
    return undefined; // not written yet
  }
}

/** A command in the agent over SSH pinned to the key fleet recorded (ssh_config only appears once an up completes). */
async function inAgent(command: string): Promise<string> {
  const state = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')).agents[agent];
  const status = JSON.parse((await fleetOk(dir, ['--json', 'status'])).stdout);
  const connector = vmConnector(() => ({ sshPort: status.agents[0].sshPort }), loginKey);
  return (await inVm(connector, agent, state.hostKey, command)).out;
}
const switches = async () =>
  (await inAgent('cat /var/log/nixos-rebuild.log')).split('\n').filter((l) => l.startsWith('switch --flake'));

beforeAll(async () => {
  await ensureLibvirtd();
  image = await ensureTestImage();
  loginKey = await readFile(image.privateKeyPath, 'utf8');
  // The key fleet logs in with is also the admin key the secret is encrypted to (as for a real admin).
  const fleetRepo = await makeSecretsFleet(
    { [agent]: [SECRET] },
    { [SECRET]: PLAINTEXT },
    image.privateKeyPath,
  );
  dir = fleetRepo.dir;
  stateDir = join(dir, 'state');
  await writeFleetConfig(dir, image, stateDir, portBase);
  await writeAgent(dir, agent, [SECRET]);
}, LIMIT);

afterAll(async () => {
  removeDomains([agent], stateDir);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.sequential('fleet up provisions, and resumes after being killed between the phases', () => {
  let killedAt: string;
  let switchesAtKill: string[];

  it(
    'is killed with SIGKILL once phase 1 is recorded',
    async () => {
      // The two-phase flow: the guest makes its own host key (and later tests make it forget that key).
      const child = fleetSpawn(dir, ['up', '--no-pregenerate-host-keys']);
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      let output = '';
      child.stdout.on('data', (d) => {
        output += d;
      });
      child.stderr.on('data', (d) => {
        output += d;
      });
      const between = new Set(['phase1', 'hostkey', 'rekeyed']);
      for (;;) {
        const done = (await agentState())?.provision?.done;
        if (done !== undefined && between.has(done)) {
          child.kill('SIGKILL');
          break;
        }
        if (child.exitCode !== null)
          throw new Error(`fleet up exited (${child.exitCode}) before phase 1 was recorded:\n${output}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await exited;
      killedAt = (await agentState())?.provision?.done as string;
      expect(between.has(killedAt)).toBe(true);
      switchesAtKill = await switches();
      expect(switchesAtKill.length).toBeGreaterThanOrEqual(1);
      expect(await inAgent(`test -e /run/agenix/${SECRET} && echo present || echo absent`)).toBe('absent\n');
      // status shows where it stopped.
      const status = JSON.parse((await fleetOk(dir, ['--json', 'status'])).stdout);
      expect(status.agents[0].phase).toBe(killedAt);
    },
    LIMIT,
  );

  it(
    'the next fleet up resumes without repeating finished steps',
    async () => {
      const r = await fleetOk(dir, ['--json', 'up']);
      const out = JSON.parse(r.stdout) as { outcomes: { agent: string; ok: boolean; steps: string[] }[] };
      // Still running and SSH-ready: only the provisioning is left.
      expect(out.outcomes).toEqual([{ agent, ok: true, steps: ['provision'] }]);
      const after = await switches();
      // Exactly one more rebuild (phase 2); phase 1 was not repeated.
      expect(after).toHaveLength(switchesAtKill.length + 1);
      const log = (await inAgent('cat /var/log/nixos-rebuild.log')).split('\n');
      expect(log.filter((l) => l.endsWith(`: ${SECRET}`)).at(0)).toBe(`skipped: ${SECRET}`);
      expect(log.filter((l) => l.endsWith(`: ${SECRET}`)).at(-1)).toBe(`decrypted: ${SECRET}`);
      expect(await inAgent(`cat /run/agenix/${SECRET}`)).toBe(PLAINTEXT);
      expect((await agentState())?.provision?.done).toBe('ready');
      const status = JSON.parse((await fleetOk(dir, ['--json', 'status'])).stdout);
      expect(status.agents[0].phase).toBe('ready');
    },
    LIMIT,
  );

  it(
    'a third fleet up does nothing; fleet rebuild runs one more rebuild',
    async () => {
      const before = (await switches()).length;
      const r = await fleetOk(dir, ['up']);
      expect(r.stdout).toContain('Nothing to do');
      expect(await switches()).toHaveLength(before);

      const rebuilt = await fleetOk(dir, ['rebuild']);
      expect(rebuilt.stdout).toContain(`${agent}: rebuilt`);
      expect(rebuilt.stderr).toContain(`${agent}: | nixos-rebuild: done`);
      expect(await switches()).toHaveLength(before + 1);
    },
    LIMIT,
  );

  it(
    'a failing rebuild exits non-zero with its last lines and the log path',
    async () => {
      await writeFile(join(dir, 'FAIL_REBUILD'), '');
      try {
        const r = await fleet(dir, ['rebuild']);
        expect(r.code).toBe(1);
        expect(r.stdout).toContain(`${agent}: FAILED`);
        expect(r.stdout).toContain('FAIL_REBUILD present');
        expect(r.stdout).toContain(join(stateDir, 'logs', `agent-${agent}.provision.log`));
      } finally {
        await rm(join(dir, 'FAIL_REBUILD'));
      }
    },
    LIMIT,
  );

  it(
    'a guest with a new host key is refused at connect; provision --rekey needs --yes, then re-pins and rekeys',
    async () => {
      const oldKey = (await readFile(join(dir, 'secrets', 'hosts', `${agent}.pub`), 'utf8')).trim();
      // The guest forgets its host key (as a reinstalled VM would) and makes a new one at boot.
      await inAgent('rm -f /boot/agentfleet/ssh_host_ed25519_key && sync');
      await fleetOk(dir, ['down']);
      const refused = await fleet(dir, ['up']);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain('does not match its pinned key');
      expect(refused.stdout).toContain(`fleet provision ${agent} --rekey --yes`);

      const unconfirmed = await fleet(dir, ['provision', agent, '--rekey']);
      expect(unconfirmed.code).toBe(2);
      expect(unconfirmed.stderr).toContain('--rekey --yes');

      const r = await fleetOk(dir, ['provision', agent, '--rekey', '--yes']);
      expect(r.stdout).toContain(`${agent}: provisioned (hostkey, rekeyed, phase2, ready)`);
      const newKey = (await readFile(join(dir, 'secrets', 'hosts', `${agent}.pub`), 'utf8')).trim();
      expect(newKey).not.toBe(oldKey);
      expect(JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')).agents[agent].hostKey).toBe(
        newKey,
      );
      expect(await readFile(join(stateDir, 'known_hosts'), 'utf8')).toContain(newKey);
      expect(await inAgent(`cat /run/agenix/${SECRET}`)).toBe(PLAINTEXT);
      // The re-pinned key is what the next run expects: it completes the bring-up and stops.
      await fleetOk(dir, ['up']);
    },
    LIMIT,
  );
});
