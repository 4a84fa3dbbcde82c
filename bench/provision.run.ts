// Time of each bring-up and provisioning phase for two agents brought up by `fleet up` one after
// another (-c 1), in parallel (-c 2), both with --no-pregenerate-host-keys (two rebuilds), and in
// parallel with host keys made before first boot (fleet's default: one rebuild), each from nothing,
// in one run. The phases are read from fleet's own progress lines on stderr, timestamped as they arrive.
// Usage: npm run build && npx vitest run -c bench/vitest.config.ts bench/provision.run.ts
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureLibvirtd, ensureTestImage } from '@agentfleet/testing';
import { fleetMain } from '@agentfleet/testing/fleet-cli';
import {
  makeSecretsFleet,
  removeDomains,
  writeAgent,
  writeFleetConfig,
} from '@agentfleet/testing/provision-fixture';
import { expect, it } from 'vitest';

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

async function bringUp(
  concurrency: number,
  extra: string[] = [],
): Promise<{ wall: number; phases: Timings }> {
  const image = await ensureTestImage();
  const tag = `b${concurrency}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
  const agents = [`${tag}x`, `${tag}y`];
  const fleet = await makeSecretsFleet(
    Object.fromEntries(agents.map((a) => [a, [`${a}-token`]])),
    Object.fromEntries(agents.map((a) => [`${a}-token`, `secret of ${a}\n`])),
    image.privateKeyPath,
  );
  await writeFleetConfig(
    fleet.dir,
    image,
    join(fleet.dir, 'state'),
    30000 + Math.floor(Math.random() * 20000),
  );
  for (const a of agents) await writeAgent(fleet.dir, a, [`${a}-token`]);
  const phases: Timings = new Map(agents.map((a) => [a, new Map()]));
  const started = new Map<string, number>();
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [fleetMain, '--dir', fleet.dir, 'up', '-c', String(concurrency), ...extra],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
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
    removeDomains(agents);
    await rm(fleet.dir, { recursive: true, force: true });
  }
  return { wall, phases };
}

const s = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? '-' : (ms / 1000).toFixed(2));

it('provisioning phases: two agents one after another vs in parallel (and with pre-generated host keys)', async () => {
  await ensureLibvirtd();
  const modes = [
    ['seq', await bringUp(1, ['--no-pregenerate-host-keys'])],
    ['par', await bringUp(2, ['--no-pregenerate-host-keys'])],
    ['par+pregen', await bringUp(2)],
  ] as const;
  const cols = modes.flatMap(([name]) => [`${name} a`, `${name} b`]);
  const rows = PHASES.map((p) => {
    const cells = modes.flatMap(([, r]) => [...r.phases.values()].map((m) => s(m.get(p))));
    return `| ${p.padEnd(11)} | ${cells.map((c, i) => c.padStart(cols[i]?.length ?? 0)).join(' | ')} |`;
  });
  const table = [
    `| phase (s)   | ${cols.join(' | ')} |`,
    `|-------------|${cols.map((c) => '-'.repeat(c.length + 2)).join('|')}|`,
    ...rows,
    ...modes.map(([name, r]) => `whole up, ${name}: ${s(r.wall)} s`),
  ].join('\n');
  console.log(`\n${table}\n`);
});
