// Time of each bring-up and provisioning phase for two agents brought up by `fleet up` one after
// another (-c 1) versus in parallel (-c 2), each from nothing, in one run. The phases are read
// from fleet's own progress lines on stderr, timestamped as they arrive.
// Usage: npm run build && npx vitest run -c bench/provision.vitest.config.ts
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';
import { fleetMain } from '../test/e2e/fleet-cli.js';
import { makeSecretsFleet } from '../test/e2e/provision-fixture.js';
import { ensureLibvirtd, ensureTestImage, systemUri } from '../test/harness/index.js';

const PHASES = [
  'create-disk',
  'define',
  'start',
  'await-ssh',
  'phase1',
  'hostkey',
  'rekeyed',
  'phase2',
  'ready',
];
const LINE = new RegExp(`^(\\S+): (${PHASES.join('|')}) ?(\\.\\.\\.|done)$`);

type Timings = Map<string, Map<string, number>>; // agent -> phase -> ms

async function bringUp(concurrency: number): Promise<{ wall: number; phases: Timings }> {
  const image = await ensureTestImage();
  const tag = `b${concurrency}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
  const agents = [`${tag}x`, `${tag}y`];
  const fleet = await makeSecretsFleet(
    Object.fromEntries(agents.map((a) => [a, [`${a}-token`]])),
    Object.fromEntries(agents.map((a) => [`${a}-token`, `secret of ${a}\n`])),
    image.privateKeyPath,
  );
  const port = 30000 + Math.floor(Math.random() * 20000);
  await mkdir(join(fleet.dir, 'agents'));
  await writeFile(
    join(fleet.dir, 'agents', 'fleet.yaml'),
    [
      `libvirtUri: ${systemUri}`,
      `stateDir: ${join(fleet.dir, 'state')}`,
      `baseImage: ${image.baseImage}`,
      'domainType: qemu',
      'diskMode: overlay',
      'reservedCores: []',
      `sshPorts: { start: ${port}, end: ${port + 20} }`,
      `spicePorts: { start: ${port + 100}, end: ${port + 120} }`,
      `ssh: { user: root, identityFile: ${image.privateKeyPath} }`,
      '',
    ].join('\n'),
  );
  for (const a of agents) {
    await writeFile(
      join(fleet.dir, 'agents', `${a}.yaml`),
      `memory: 256MiB\nvcpus: 1\nshareCores: true\ndesktop: false\ngit: { email: ${a}@example.org }\nsecrets: [${a}-token]\n`,
    );
  }
  const phases: Timings = new Map(agents.map((a) => [a, new Map()]));
  const started = new Map<string, number>();
  const t0 = performance.now();
  const child = spawn(process.execPath, [fleetMain, '--dir', fleet.dir, 'up', '-c', String(concurrency)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push(line);
    const m = LINE.exec(line);
    if (!m) return;
    const [, agent, phase, event] = m as unknown as [string, string, string, string];
    const key = `${agent} ${phase}`;
    if (event === '...') started.set(key, performance.now());
    else phases.get(agent)?.set(phase, performance.now() - (started.get(key) ?? Number.NaN));
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wall = performance.now() - t0;
  try {
    if (code !== 0) throw new Error(`fleet up exited ${code}\n${stdout}\n${stderr.join('\n')}`);
    for (const a of agents) {
      const state = JSON.parse(await readFile(join(fleet.dir, 'state', 'state.json'), 'utf8'));
      expect(state.agents[a].provision.done).toBe('ready');
    }
  } finally {
    for (const a of agents) {
      for (const cmd of ['destroy', 'undefine']) {
        try {
          execFileSync('virsh', ['-c', systemUri, cmd, `agent-${a}`], { stdio: 'ignore' });
        } catch {}
      }
    }
    await rm(fleet.dir, { recursive: true, force: true });
  }
  return { wall, phases };
}

const s = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? '-' : (ms / 1000).toFixed(2));

it('provisioning phases: two agents one after another vs in parallel', async () => {
  await ensureLibvirtd();
  const seq = await bringUp(1);
  const par = await bringUp(2);
  const rows = PHASES.map((p) => {
    const [sa, sb] = [...seq.phases.values()].map((m) => m.get(p));
    const [pa, pb] = [...par.phases.values()].map((m) => m.get(p));
    return `| ${p.padEnd(11)} | ${s(sa).padStart(6)} | ${s(sb).padStart(6)} | ${s(pa).padStart(6)} | ${s(pb).padStart(6)} |`;
  });
  const table = [
    '| phase (s)   | seq a  | seq b  | par a  | par b  |',
    '|-------------|--------|--------|--------|--------|',
    ...rows,
    `| whole up    | ${s(seq.wall).padStart(15)} | ${s(par.wall).padStart(15)} |`,
    `parallel/sequential wall: ${(par.wall / seq.wall).toFixed(2)}x`,
  ].join('\n');
  console.log(`\n${table}\n`);
});
