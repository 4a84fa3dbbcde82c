// Bring-up of two tiny agents (`fleet up --no-provision -c 2`, isolated, host keys made first) on one libvirt host vs
// split over this machine and a second host (a network namespace with its own sshd and libvirtd, the multihost e2e
// test's: @agentfleet/testing/second-host), side by side in one run, order alternating per round, medians. Each
// round starts from nothing (`destroy --purge` of both, which also removes the second host's base volume with its
// last user, so every split round uploads the base once more). The second host is this machine: the split case gets
// no more cores, so this measures what going through a remote host costs (SSH jumps, the base upload, passt started
// over SSH), not the gain of a second machine.
// Usage: npm run build && ROUNDS=3 npx vitest run -c bench/vitest.config.ts bench/multihost.run.ts
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureLibvirtd, ensureTestImage, stopPassts, systemUri } from '@agentfleet/testing';
import { fleetOk } from '@agentfleet/testing/fleet-cli';
import { startSecondHost } from '@agentfleet/testing/second-host';
import { expect, it } from 'vitest';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const tag = `bm${Math.floor(Math.random() * 36 ** 2).toString(36)}`;
/** Ports 44800-44899 (the multihost helper's block). */
const PORTS = 44800;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

it('two agents: on one host vs split over two', async () => {
  await ensureLibvirtd();
  const image = await ensureTestImage();
  const root = mkdtempSync('/tmp/remote-bench-');
  const host = startSecondHost({
    tag: tag.slice(0, 4),
    subnet: '10.215.0.64',
    dirPrefix: 'remote-bench-host-',
    hide: [root],
  });
  const names = { local: [`${tag}l0`, `${tag}l1`], split: [`${tag}s0`, `${tag}s1`] };
  const dirs: Record<string, string> = {};
  try {
    if (spawnSync('getent', ['passwd', 'agentfleet-passt']).status !== 0)
      execFileSync('useradd', [
        '--system',
        '--user-group',
        '--no-create-home',
        '--shell',
        '/usr/sbin/nologin',
        'agentfleet-passt',
      ]);
    for (const [i, [label, agents]] of Object.entries(names).entries()) {
      const dir = join(root, label);
      mkdirSync(join(dir, 'agents'), { recursive: true });
      const p = PORTS + 40 * i;
      writeFileSync(
        join(dir, 'agents', 'fleet.yaml'),
        [
          `libvirtUri: ${systemUri}`,
          `stateDir: ${join(dir, 'state')}`,
          `baseImage: ${image.baseImage}`,
          'domainType: qemu',
          'diskMode: overlay',
          'reservedCores: []',
          `sshPorts: { start: ${p}, end: ${p + 9} }`,
          `spicePorts: { start: ${p + 10}, end: ${p + 19} }`,
          `ssh: { user: root, identityFile: ${image.privateKeyPath} }`,
          'bootTimeouts: { sshSeconds: 600, shutdownSeconds: 30 }',
          'hosts:',
          `  here: { uri: '${systemUri}', reservedCores: [] }`,
          `  there: { uri: '${host.uri}', reservedCores: [] }`,
          '',
        ].join('\n'),
      );
      // One guest per core in both cases; split: the second agent on the second host (the same cores here).
      for (const [j, a] of agents.entries())
        writeFileSync(
          join(dir, 'agents', `${a}.yaml`),
          `memory: 256MiB\nvcpus: 1\nshareCores: true\ncores: [${j}]\ndesktop: false\ngit: { email: a@example.org }\n` +
            `host: ${label === 'split' && j === 1 ? 'there' : 'here'}\n`,
        );
      dirs[label] = dir;
    }
    const times: Record<string, number[]> = { local: [], split: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? ['local', 'split'] : ['split', 'local'];
      for (const label of order) {
        const dir = dirs[label] as string;
        const load = loadavg();
        const t0 = performance.now();
        await fleetOk(dir, ['up', '--no-provision', '-c', '2']);
        const s = (performance.now() - t0) / 1000;
        times[label]?.push(s);
        console.log(`round ${r + 1} ${label}: ${s.toFixed(1)} s (load ${load})`);
        await fleetOk(dir, ['destroy', ...(names[label as keyof typeof names] ?? []), '--purge', '--yes']);
      }
    }
    const [l, s] = [median(times.local as number[]), median(times.split as number[])];
    console.log(
      `median over ${ROUNDS} rounds: one host ${l.toFixed(1)} s, split ${s.toFixed(1)} s, split/one ${(s / l).toFixed(2)}x`,
    );
    expect(times.local).toHaveLength(ROUNDS);
  } finally {
    for (const [label, agents] of Object.entries(names)) {
      spawnSync(process.execPath, [
        join(process.cwd(), 'packages/cli/dist/main.js'),
        '--dir',
        dirs[label] ?? '/nonexistent',
        'destroy',
        ...agents,
        '--purge',
        '--yes',
      ]);
      for (const a of agents)
        for (const uri of [systemUri, host.uri])
          for (const cmd of ['destroy', 'undefine']) spawnSync('virsh', ['-c', uri, cmd, `agent-${a}`]);
    }
    host.stop(names.split.map((a) => `agent-${a}`));
    stopPassts([...names.local, ...names.split]);
    // What the second host kept on this machine's /run and /var/lib (its passts' run dirs, host-key copies).
    for (const dir of Object.values(dirs)) {
      const ledger = join(dir, 'agents', 'ledger.yaml');
      const id = existsSync(ledger) ? /fleetId: (\S+)/.exec(readFileSync(ledger, 'utf8'))?.[1] : undefined;
      for (const d of ['/run/agentfleet', '/var/lib/agentfleet'])
        if (id) rmSync(join(d, id), { recursive: true, force: true });
    }
    for (const d of ['/run/agentfleet', '/var/lib/agentfleet'])
      try {
        rmdirSync(d);
      } catch {}
    rmSync(root, { recursive: true, force: true });
  }
});
