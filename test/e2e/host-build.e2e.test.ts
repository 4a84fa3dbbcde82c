// `build: host` end to end, through the built CLI, on two tiny VMs shared by every case: the host
// builds both agents' toplevels from one real `nix eval` and one `nix-store --realise` (Debian nix-bin; the test flake stands in
// for NixOS, see host-build-flake.ts), `nix copy` puts the closures into the guests' own Nix store
// over the fleet's pinned ssh_config, and the guests switch to them (the marker their
// switch-to-configuration leaves is read back through `fleet ssh`). Evaluations are counted with a
// `nix` on PATH that records its calls.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyClosure, runNix } from '@agentfleet/engine';
import { ensureLibvirtd, ensureTestImage, portBlock, type TestImage } from '@agentfleet/testing';
import { fleet, fleetOk } from '@agentfleet/testing/fleet-cli';
import {
  countingNix,
  HOST_BUILD_NIX_CONFIG,
  hostBuildFlake,
  SWITCH_MARKER,
} from '@agentfleet/testing/host-build-flake';
import { makeSecretsFleet, removeDomains, writeFleetConfig } from '@agentfleet/testing/provision-fixture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Boots and provisioning of two TCG guests on a machine shared with other suites.
const LIMIT = 1_500_000;
const tag = `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
const A = `bh${tag}a`;
const B = `bh${tag}b`;
const portBase = portBlock();

let dir: string;
let stateDir: string;
let image: TestImage;
let counter: Awaited<ReturnType<typeof countingNix>>;
const savedEnv = { PATH: process.env.PATH, NIX_CONFIG: process.env.NIX_CONFIG };

const writeFlake = (opts: { fail?: string[]; salt?: string } = {}) =>
  writeFile(join(dir, 'flake.nix'), hostBuildFlake([A, B], opts));
const inAgent = async (agent: string, command: string) =>
  (await fleetOk(dir, ['ssh', agent, '--', command])).stdout;
const markers = async (agent: string) => (await inAgent(agent, `cat ${SWITCH_MARKER}`)).trim().split('\n');
const logOf = (agent: string) => readFile(join(stateDir, 'logs', `agent-${agent}.provision.log`), 'utf8');
/** The output of the agent's last `nix copy`, from its provisioning log. */
const lastCopy = async (agent: string) => {
  const log = await logOf(agent);
  const copy = log.slice(log.lastIndexOf(' nix --extra-experimental-features nix-command flakes copy '));
  return copy.slice(0, copy.indexOf('switch-to-configuration'));
};
/** The agents one evaluation covers (its `--apply` names each agent's configuration). */
const toplevelArgs = (call: string) => [...call.matchAll(/cs\."agent-/g)];

beforeAll(async () => {
  await ensureLibvirtd();
  image = await ensureTestImage();
  counter = await countingNix();
  // Children (the fleet CLI, and the nix it runs) inherit both.
  process.env.PATH = `${counter.dir}:${process.env.PATH}`;
  process.env.NIX_CONFIG = HOST_BUILD_NIX_CONFIG;
  const repo = await makeSecretsFleet({ [A]: [], [B]: [] }, {}, image.privateKeyPath);
  dir = repo.dir;
  stateDir = join(dir, 'state');
  // Two TCG guests on a machine shared with other suites can take minutes to answer. Networking is
  // not what this file tests: `network: open` (hostfwd) keeps it simple.
  await writeFleetConfig(dir, image, stateDir, portBase, {
    bootTimeouts: '{ sshSeconds: 900, shutdownSeconds: 120 }',
    network: 'open',
  });
  for (const agent of [A, B]) {
    // Nix unpacked in the guest takes ~70 MB of its RAM-backed root.
    await writeFile(
      join(dir, 'agents', `${agent}.yaml`),
      `memory: 512MiB\nvcpus: 1\nshareCores: true\ndesktop: false\ngit: { email: ${agent}@example.org }\nsecrets: []\n`,
    );
  }
  await writeFlake();
}, LIMIT);

afterAll(async () => {
  removeDomains([A, B], stateDir);
  process.env.PATH = savedEnv.PATH;
  if (savedEnv.NIX_CONFIG === undefined) delete process.env.NIX_CONFIG;
  else process.env.NIX_CONFIG = savedEnv.NIX_CONFIG;
  if (dir) await rm(dir, { recursive: true, force: true });
  if (counter) await rm(counter.dir, { recursive: true, force: true });
});

describe.sequential('build: host', () => {
  it(
    'fleet up --build-on host: one evaluation and one build per phase for both agents, copied in and activated',
    async () => {
      // The two-phase flow, both phases built on the host.
      await fleetOk(dir, ['up', '--build-on', 'host', '--no-pregenerate-host-keys']);
      const builds = await counter.evaluations();
      // Phase 1, then phase 2 after the rekey: each one evaluation for the whole fleet, not one per agent.
      expect(builds).toHaveLength(2);
      for (const call of builds) expect(toplevelArgs(call)).toHaveLength(2);
      for (const agent of [A, B]) {
        expect(await markers(agent)).toEqual([
          `switched ${agent} switch configured ${agent}`,
          `switched ${agent} switch configured ${agent}`,
        ]);
        // Built on the host only: the guest's nixos-rebuild never ran.
        expect(await inAgent(agent, 'cat /var/log/nixos-rebuild.log 2>/dev/null || echo none')).toBe(
          'none\n',
        );
        expect(await inAgent(agent, 'readlink -f /nix/var/nix/profiles/system')).toMatch(
          new RegExp(`^/nix/store/[a-z0-9]{32}-toplevel-${agent}\n$`),
        );
      }
      // Phase 1's copy brought both paths of the closure; phase 2's found them there.
      const log = await logOf(A);
      expect(log.match(/copying path '\/nix\/store\/[a-z0-9]{32}-etc-/g)).toHaveLength(1);
      expect(log.match(/copying path '\/nix\/store\/[a-z0-9]{32}-toplevel-/g)).toHaveLength(1);
    },
    LIMIT,
  );

  it(
    'fleet rebuild with provision.build: host in fleet.yaml evaluates and builds once and copies nothing new',
    async () => {
      const fleetYaml = join(dir, 'agents', 'fleet.yaml');
      await writeFile(fleetYaml, `${await readFile(fleetYaml, 'utf8')}provision: { build: host }\n`);
      const before = (await counter.evaluations()).length;
      await fleetOk(dir, ['rebuild']);
      const builds = await counter.evaluations();
      expect(builds).toHaveLength(before + 1);
      expect(toplevelArgs(builds.at(-1) ?? '')).toHaveLength(2);
      for (const agent of [A, B]) {
        expect(await markers(agent)).toHaveLength(3);
        expect(await lastCopy(agent)).not.toMatch(/copying path/);
      }
    },
    LIMIT,
  );

  it(
    'a failed build stops that agent only, with its tail and log; the other switches to the new system',
    async () => {
      await writeFlake({ salt: 'v2', fail: [B] });
      const r = await fleet(dir, ['rebuild']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`${A}: rebuilt`);
      expect(r.stdout).toContain(`${B}: FAILED`);
      expect(r.stdout).toContain(`${B} does not build`);
      expect(r.stdout).toContain(`full log: ${join(stateDir, 'logs', `agent-${B}.provision.log`)}`);
      expect((await markers(A)).at(-1)).toBe(`switched ${A} switch configured ${A} v2`);
      expect(await lastCopy(A)).toMatch(/copying path '\/nix\/store\/[a-z0-9]{32}-toplevel-/);
      expect(await markers(B)).toHaveLength(3);

      // Fixed: provisioning B again from phase 2 takes the new system.
      await writeFlake({ salt: 'v2' });
      await fleetOk(dir, ['provision', B, '--from', 'phase2']);
      expect((await markers(B)).at(-1)).toBe(`switched ${B} switch configured ${B} v2`);
    },
    LIMIT,
  );

  it(
    'nix copy holds the pin: with another key pinned for the agent, nothing is copied',
    async () => {
      const probeDir = await mkdtemp(join(tmpdir(), 'bh-probe-'));
      try {
        await writeFile(join(probeDir, `bh-probe-${tag}`), 'copied only to the pinned guest\n');
        const added = await runNix(
          [
            '--extra-experimental-features',
            'nix-command',
            'store',
            'add-file',
            join(probeDir, `bh-probe-${tag}`),
          ],
          () => {},
        );
        const path = added.stdout.trim();
        expect(path).toMatch(/^\/nix\/store\//);
        // The fleet's ssh_config, with B's key recorded for A's address: what a swapped guest would present.
        const known = await readFile(join(stateDir, 'known_hosts'), 'utf8');
        const lines = known.trim().split('\n');
        const keyAt = (port: number) => {
          const line = lines.find((l) => l.startsWith(`[127.0.0.1]:${port} `));
          if (line === undefined) throw new Error(`no known_hosts entry for port ${port}:\n${known}`);
          return line.split(' ').slice(1).join(' ');
        };
        const status = JSON.parse((await fleetOk(dir, ['--json', 'status'])).stdout) as {
          agents: { name: string; sshPort: number }[];
        };
        const portOf = (agent: string) => status.agents.find((s) => s.name === agent)?.sshPort as number;
        const swapped = join(probeDir, 'known_hosts');
        await writeFile(swapped, `[127.0.0.1]:${portOf(A)} ${keyAt(portOf(B))}\n`);
        const config = join(probeDir, 'ssh_config');
        await writeFile(
          config,
          (await readFile(join(stateDir, 'ssh_config'), 'utf8')).replaceAll(
            join(stateDir, 'known_hosts'),
            swapped,
          ),
        );
        let text = '';
        const log = {
          section: (t: string) => {
            text += `${t}\n`;
          },
          write: (c: string) => {
            text += c;
          },
          tail: () => text.split('\n').slice(-20),
          path: '(test)',
        };
        await expect(copyClosure(A, path, config, log)).rejects.toThrow(/nix copy to .* exited with/);
        expect(text).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
        expect(await inAgent(A, `test -e ${path} && echo present || echo absent`)).toBe('absent\n');
        // The same copy with the fleet's own ssh_config goes through: the key made the difference.
        await copyClosure(A, path, join(stateDir, 'ssh_config'), log);
        expect(await inAgent(A, `test -e ${path} && echo present || echo absent`)).toBe('present\n');
      } finally {
        await rm(probeDir, { recursive: true, force: true });
      }
    },
    LIMIT,
  );
});
