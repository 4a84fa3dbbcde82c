// One pinned set of inputs for the whole fleet: a fleet repository without flake.lock gets the lock
// the first phase 1 resolved, brought back from the agent, and every other rebuild (phase 2, the
// other agent, a later `fleet rebuild`) runs with --no-update-lock-file on that same lock. The
// image's stand-in nixos-rebuild writes a lock unique to each resolution (as moving branches may
// differ between two) and logs the sha256 of the lock each rebuild used. Real libvirt + QEMU, real ssh.
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, portBlock, type TestImage } from '@agentfleet/testing';
import { fleet, fleetOk } from '@agentfleet/testing/fleet-cli';
import {
  inVm,
  makeSecretsFleet,
  removeDomains,
  vmConnector,
  writeAgent,
  writeFleetConfig,
} from '@agentfleet/testing/provision-fixture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LIMIT = 400_000;
const tag = `nx${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 2).toString(36)}`;
const agents = [`${tag}a`, `${tag}b`];
const portBase = portBlock();

let dir: string;
let stateDir: string;
let image: TestImage;

beforeAll(async () => {
  await ensureLibvirtd();
  image = await ensureTestImage();
  dir = (
    await makeSecretsFleet({ [agents[0] as string]: [], [agents[1] as string]: [] }, {}, image.privateKeyPath)
  ).dir;
  stateDir = join(dir, 'state');
  await writeFleetConfig(dir, image, stateDir, portBase);
  for (const a of agents) await writeAgent(dir, a, []);
}, LIMIT);

afterAll(async () => {
  removeDomains(agents, stateDir);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A command in an agent over SSH pinned to the host key fleet recorded. */
async function inAgent(agent: string, command: string): Promise<string> {
  const state = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')).agents;
  const status = JSON.parse((await fleetOk(dir, ['--json', 'status'])).stdout);
  const port = status.agents.find((s: { name: string }) => s.name === agent).sshPort;
  const connector = vmConnector(() => ({ sshPort: port }), await readFile(image.privateKeyPath, 'utf8'));
  return (await inVm(connector, agent, state[agent].hostKey, command)).out;
}

/** Each agent's nixos-rebuild log: the switch commands, and the sha256 of the lock each used. */
async function rebuildLogs(): Promise<Record<string, { switches: string[]; locks: string[] }>> {
  const out: Record<string, { switches: string[]; locks: string[] }> = {};
  for (const a of agents) {
    const log = (await inAgent(a, 'cat /var/log/nixos-rebuild.log')).split('\n');
    out[a] = {
      switches: log.filter((l) => l.startsWith('switch --flake')),
      locks: log.filter((l) => l.startsWith('lock: ')).map((l) => l.slice('lock: '.length)),
    };
  }
  return out;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe.sequential('the fleet pins its flake inputs in one flake.lock', () => {
  let pinned: string;

  it(
    'fleet up without a flake.lock: the first phase 1 writes it, fleet brings it back, every other rebuild uses it',
    async () => {
      // The two-phase flow: phase 1 is the first rebuild.
      const r = await fleetOk(dir, ['up', '-c', '2', '--no-pregenerate-host-keys']);
      expect(`${r.stdout}${r.stderr}`).toContain(
        `flake.lock: the repository had none; wrote ${join(dir, 'flake.lock')}`,
      );
      pinned = sha256(await readFile(join(dir, 'flake.lock'), 'utf8'));
      const logs = await rebuildLogs();
      for (const a of agents) {
        // Phases 1 and 2 of both agents, on the one lock in the repository.
        expect(logs[a]?.switches).toHaveLength(2);
        expect(logs[a]?.locks).toEqual([pinned, pinned]);
      }
      // Exactly one rebuild was allowed to resolve the inputs; the other three ran frozen.
      const all = agents.flatMap((a) => logs[a]?.switches ?? []);
      expect(all.filter((s) => !s.endsWith(' --no-update-lock-file'))).toHaveLength(1);
    },
    LIMIT,
  );

  it(
    'fleet rebuild uses the same lock and never moves it',
    async () => {
      await fleetOk(dir, ['rebuild', '-c', '2']);
      const logs = await rebuildLogs();
      for (const a of agents) {
        expect(logs[a]?.switches.at(-1)).toMatch(/ --no-update-lock-file$/);
        expect(logs[a]?.locks).toEqual([pinned, pinned, pinned]);
      }
      expect(sha256(await readFile(join(dir, 'flake.lock'), 'utf8'))).toBe(pinned);
    },
    LIMIT,
  );

  it(
    "fleet keys shows the agent user's own public key, read from the VM; a missing key is an error saying why",
    async () => {
      const [withKey, without] = agents as [string, string];
      // What the agent's NixOS configuration does (users.nix, user-key.nix), by hand in the image:
      // the agent's user exists, and its key was made on first boot.
      const home = `/home/${withKey}`;
      const made = (
        await inAgent(
          withKey,
          `echo '${withKey}:x:1000:100::${home}:/bin/sh' >> /etc/passwd && mkdir -p ${home}/.ssh && ` +
            `ssh-keygen -q -t ed25519 -N '' -C agent -f ${home}/.ssh/id_ed25519 && cat ${home}/.ssh/id_ed25519.pub`,
        )
      )
        .trim()
        .split(' ')
        .slice(0, 2)
        .join(' ');
      expect((await fleetOk(dir, ['keys', withKey])).stdout).toBe(`${made}\n`);
      expect(JSON.parse((await fleetOk(dir, ['--json', 'keys', withKey])).stdout)).toEqual({
        version: 1,
        ok: true,
        command: 'keys',
        agent: withKey,
        user: withKey,
        publicKey: made,
      });
      const missing = await fleet(dir, ['keys', without]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain(`cannot read ~${without}/.ssh/id_ed25519.pub`);
    },
    LIMIT,
  );
});
