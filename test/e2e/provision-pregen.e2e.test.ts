// `fleet up --pregenerate-host-keys`: the agent's SSH host key is made on the host before first
// boot, pinned (first contact is verified, not trusted), handed to the guest through fw_cfg,
// recorded and rekeyed, so one nixos-rebuild leaves the secret decrypted. Real libvirt + QEMU,
// real ssh, real age; the tiny image stands in for NixOS.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, type TestImage } from '@agentfleet/testing';
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

const LIMIT = 300_000;
const tag = `k${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
const agent = `${tag}a`;
/** A second agent, brought up alongside, to show one failing agent does not stop the other. */
const other = `${tag}b`;
const SECRET = `${agent}-token`;
const PLAINTEXT = `secret of ${agent}\n`;

let dir: string;
let stateDir: string;
let image: TestImage;

beforeAll(async () => {
  await ensureLibvirtd();
  image = await ensureTestImage();
  const repo = await makeSecretsFleet(
    { [agent]: [SECRET], [other]: [] },
    { [SECRET]: PLAINTEXT },
    image.privateKeyPath,
  );
  dir = repo.dir;
  stateDir = join(dir, 'state');
  await writeFleetConfig(dir, image, stateDir, 20000 + Math.floor(Math.random() * 20000));
  await writeAgent(dir, agent, [SECRET]);
  await writeAgent(dir, other, []);
}, LIMIT);

afterAll(async () => {
  removeDomains([agent, other]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.sequential('fleet up --pregenerate-host-keys', () => {
  it(
    'provisions with a single rebuild using the key made on the host',
    async () => {
      await fleetOk(dir, ['up', '-c', '2', '--pregenerate-host-keys']);
      const made = (await readFile(join(stateDir, 'hostkeys', `agent-${agent}_ed25519.pub`), 'utf8')).trim();
      const state = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')).agents[agent];
      expect(state.hostKey).toBe(made);
      expect(state.provision).toMatchObject({ done: 'ready', hostKey: made });
      expect((await readFile(join(dir, 'secrets', 'hosts', `${agent}.pub`), 'utf8')).trim()).toBe(made);

      const status = JSON.parse((await fleetOk(dir, ['--json', 'status'])).stdout);
      const connector = vmConnector(
        () => ({ sshPort: status.agents[0].sshPort }),
        await readFile(image.privateKeyPath, 'utf8'),
      );
      const run = async (cmd: string) => (await inVm(connector, agent, made, cmd)).out;
      // The guest serves the key fleet made (inVm pins it), installed by the hand-over script the
      // NixOS module runs (hosts/scripts/install-fwcfg-hostkey.sh, run by the image's init), and its
      // nixos-rebuild ran once and could decrypt.
      expect(await run('cat /var/log/agentfleet-hostkey.log')).toContain(
        `installed /var/ssh/ssh_host_ed25519_key from fw_cfg (${made})`,
      );
      expect((await run('cat /var/ssh/ssh_host_ed25519_key.pub')).startsWith(`${made} `)).toBe(true);
      const log = (await run('cat /var/log/nixos-rebuild.log')).split('\n');
      expect(log.filter((l) => l.startsWith('switch --flake'))).toHaveLength(1);
      expect(log).toContain(`decrypted: ${SECRET}`);
      expect(await run(`cat /run/agenix/${SECRET}`)).toBe(PLAINTEXT);
    },
    LIMIT,
  );

  it(
    'fleet rebuild: an agent that fails does not stop the other; the exit code says so',
    async () => {
      // The other agent's VM goes away behind fleet's back.
      removeDomains([other]);
      const r = await fleet(dir, ['rebuild', '-c', '2']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`${agent}: rebuilt`);
      expect(r.stdout).toContain(`${other}: FAILED`);
      expect(r.stdout).toContain(join(stateDir, 'logs', `agent-${other}.provision.log`));
      expect(r.stderr).toContain(`${agent}: | nixos-rebuild: done`);
    },
    LIMIT,
  );
});
