// `fleet rebuild` of N = 1, 2, 4 agents with `--build-on host` (one `nix eval` of every selected
// agent's toplevel and one `nix-store --realise` here, `nix copy` over the pinned SSH, switch-to-configuration in the guest) versus
// `--build-on guest` (flake uploaded over SFTP, `nixos-rebuild switch` in each guest), side by side:
// the modes alternate with the order flipped every round, each run after a change of the flake (a new
// salt, so every run has something new to build), medians of the wall time. Evaluations are counted:
// on the host, the calls a counting `nix` on PATH records that evaluate the flake's
// nixosConfigurations (`nix eval`, or `nix build` of a flake: printed as eval+build); in the
// guests, the `nixos-rebuild switch` calls the test image's stand-in logs (on NixOS each is one
// evaluation and build of that agent's system, inside its VM).
// The flake is @agentfleet/testing's host-build flake (no nixpkgs: toplevels built with /bin/sh).
// Usage: npm run build && npx vitest run -c bench/vitest.config.ts bench/rebuild.run.ts
// (root, libvirtd up, test image built, Debian's nix-bin on the host); ROUNDS=3 by default.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage } from '@agentfleet/testing';
import { fleet, fleetOk } from '@agentfleet/testing/fleet-cli';
import { countingNix, HOST_BUILD_NIX_CONFIG, hostBuildFlake } from '@agentfleet/testing/host-build-flake';
import { makeSecretsFleet, removeDomains, writeFleetConfig } from '@agentfleet/testing/provision-fixture';
import { afterAll, it } from 'vitest';

const SIZES = [1, 2, 4];
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const tag = `bn${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
const agents = Array.from({ length: Math.max(...SIZES) }, (_, i) => `${tag}r${i}`);
const loadavg = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ')[0] ?? '?';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const s = (ms: number) => (ms / 1000).toFixed(1);

let dir: string | undefined;

/** The host's nix calls so far that evaluated the flake's nixosConfigurations, by subcommand. */
async function flakeEvaluations(counterDir: string): Promise<{ eval: number; build: number }> {
  const calls = (await readFile(join(counterDir, 'calls'), 'utf8'))
    .split('\n')
    .filter((l) => l.includes('#nixosConfigurations'));
  const count = (sub: string) => calls.filter((l) => ` ${l} `.includes(` ${sub} `)).length;
  return { eval: count('eval'), build: count('build') };
}

/**
 * fleet with the args; a run that fails (a TCG guest on a machine at load 20 drops a connection) is said and run once
 * more, which resumes where it stopped: the time returned is the successful run's.
 */
async function fleetRetried(fleetDir: string, args: string[]): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const t0 = performance.now();
    const r = await fleet(fleetDir, args);
    if (r.code === 0) return performance.now() - t0;
    if (attempt === 2) throw new Error(`fleet ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    console.error(`  (fleet ${args.join(' ')} failed, run again:\n${r.stdout.trim()})`);
  }
}
let counterDir: string | undefined;

afterAll(async () => {
  removeDomains(agents);
  if (dir) await rm(dir, { recursive: true, force: true });
  if (counterDir) await rm(counterDir, { recursive: true, force: true });
});

it('fleet rebuild: build on the host vs in each guest, N = 1, 2, 4', async () => {
  await ensureLibvirtd();
  const image = await ensureTestImage();
  const counter = await countingNix();
  counterDir = counter.dir;
  // The fleet CLI and the nix it runs inherit both.
  process.env.PATH = `${counter.dir}:${process.env.PATH}`;
  process.env.NIX_CONFIG = HOST_BUILD_NIX_CONFIG;
  const repo = await makeSecretsFleet(
    Object.fromEntries(agents.map((a) => [a, []])),
    {},
    image.privateKeyPath,
  );
  dir = repo.dir;
  const fleetDir = repo.dir;
  // Ports from the bench's block (41500-41599); networking is not measured here: hostfwd.
  await writeFleetConfig(fleetDir, image, join(fleetDir, 'state'), 41590, {
    sshPorts: '{ start: 41590, end: 41594 }',
    spicePorts: '{ start: 41595, end: 41599 }',
    bootTimeouts: '{ sshSeconds: 900, shutdownSeconds: 60 }',
    network: 'open',
  });
  for (const a of agents) {
    // Nix unpacked in the guest takes ~70 MB of its RAM-backed root.
    await writeFile(
      join(fleetDir, 'agents', `${a}.yaml`),
      `memory: 512MiB\nvcpus: 1\nshareCores: true\ndesktop: false\ngit: { email: ${a}@example.org }\nsecrets: []\n`,
    );
  }
  let salt = 0;
  const newConfig = () =>
    writeFile(join(fleetDir, 'flake.nix'), hostBuildFlake(agents, { salt: `s${++salt}` }));
  await newConfig();
  await fleetRetried(fleetDir, ['up', '-c', String(agents.length), '--build-on', 'host']);

  const guestRebuilds = async (names: string[]) => {
    let n = 0;
    for (const a of names) {
      const log = (
        await fleetOk(fleetDir, ['ssh', a, '--', 'cat /var/log/nixos-rebuild.log 2>/dev/null; true'])
      ).stdout;
      n += log.split('\n').filter((l) => l.startsWith('switch ')).length;
    }
    return n;
  };
  const lines: string[] = [];
  for (const n of SIZES) {
    const names = agents.slice(0, n);
    const runs: Record<string, { ms: number; hostEvals: string; guestEvals: number }[]> = {
      host: [],
      guest: [],
    };
    const loads: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ['host', 'guest'] : ['guest', 'host'];
      for (const mode of order) {
        await newConfig();
        const before = await flakeEvaluations(counter.dir);
        const guest = await guestRebuilds(names);
        loads.push(await loadavg());
        const ms = await fleetRetried(fleetDir, ['rebuild', '-c', String(n), '--build-on', mode, ...names]);
        const after = await flakeEvaluations(counter.dir);
        const hostEvals = `${after.eval - before.eval}+${after.build - before.build}`;
        const guestEvals = (await guestRebuilds(names)) - guest;
        runs[mode]?.push({ ms, hostEvals, guestEvals });
        console.error(
          `  N=${n} round ${round + 1} ${mode}: ${s(ms)} s, host nix eval+build ${hostEvals}, guest rebuilds ${guestEvals}`,
        );
      }
    }
    const cell = (mode: string) => {
      const r = runs[mode] ?? [];
      const evals = (k: 'hostEvals' | 'guestEvals') => [...new Set(r.map((x) => x[k]))].join('/');
      return `${s(median(r.map((x) => x.ms)))} s [${r.map((x) => s(x.ms)).join(', ')}], host nix eval+build ${evals('hostEvals')}, guest rebuilds ${evals('guestEvals')}`;
    };
    const ratio = median((runs.host ?? []).map((x) => x.ms)) / median((runs.guest ?? []).map((x) => x.ms));
    lines.push(
      `N=${n} (load average ${loads.join(', ')}): host ${cell('host')}; guest ${cell('guest')}; host/guest ${ratio.toFixed(2)}x`,
    );
  }
  console.log(`\n${lines.join('\n')}\n`);
});
