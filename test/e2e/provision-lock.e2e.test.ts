// One pinned set of inputs for the whole fleet: a fleet repository without flake.lock gets the lock
// the first phase 1 resolved, brought back from the agent, and every other rebuild (phase 2, the
// other agent, a later `fleet rebuild`) runs with --no-update-lock-file on that same lock. The
// image's stand-in nixos-rebuild writes a lock unique to each resolution (as moving branches may
// differ between two) and logs the sha256 of the lock each rebuild used. Real libvirt + QEMU, real ssh.
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, type TestImage } from '@agentfleet/testing';
import { fleetOk } from '@agentfleet/testing/fleet-cli';
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
// helper nixos' port block (35000-35999).
const portBase = 35000 + Math.floor(Math.random() * 4) * 200;

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
  removeDomains(agents);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Each agent's nixos-rebuild log: the switch commands, and the sha256 of the lock each used. */
async function rebuildLogs(): Promise<Record<string, { switches: string[]; locks: string[] }>> {
  const state = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')).agents;
  const status = JSON.parse((await fleetOk(dir, ['--json', 'status'])).stdout);
  const portOf = (a: string) => status.agents.find((s: { name: string }) => s.name === a).sshPort;
  const loginKey = await readFile(image.privateKeyPath, 'utf8');
  const out: Record<string, { switches: string[]; locks: string[] }> = {};
  for (const a of agents) {
    const connector = vmConnector(() => ({ sshPort: portOf(a) }), loginKey);
    const log = (await inVm(connector, a, state[a].hostKey, 'cat /var/log/nixos-rebuild.log')).out.split(
      '\n',
    );
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
      const r = await fleetOk(dir, ['up', '-c', '2']);
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
});
