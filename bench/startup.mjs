// bench/startup.mjs -- wall time of quick `fleet` commands (no VM: a fleet on libvirt's test driver), this build
// beside another checkout's (BASELINE=/path/to/checkout, after its `npm run build`), interleaved, medians. What a
// user waits for on every `fleet --version`, `fleet logs <agent>` or `fleet status` is mostly Node loading modules.
// Run after `npm run build`: BASELINE=/path node bench/startup.mjs [RUNS] (default 15)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.argv[2] ?? 15);
const repo = fileURLToPath(new URL('..', import.meta.url));
const builds = { this: join(repo, 'packages/cli/dist/main.js') };
if (process.env.BASELINE) builds.baseline = join(process.env.BASELINE, 'packages/cli/dist/main.js');

const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-startup-'));
mkdirSync(join(dir, 'agents'));
writeFileSync(
  join(dir, 'agents', 'fleet.yaml'),
  `libvirtUri: test:///default\nstateDir: ${join(dir, 'state')}\nbaseImage: ${join(dir, 'base.qcow2')}\nreservedCores: []\nsshPorts: { start: 39000, end: 39099 }\nspicePorts: { start: 39100, end: 39199 }\n`,
);
writeFileSync(
  join(dir, 'agents', 'clj.yaml'),
  'memory: 256MiB\nvcpus: 1\nshareCores: true\ngit: { email: clj@example.org }\n',
);
writeFileSync(join(dir, 'base.qcow2'), '');
mkdirSync(join(dir, 'state'));
writeFileSync(join(dir, 'state', 'agent-clj.console.log'), 'AGENTFLEET READY\n');

const commands = [['--version'], ['logs', 'clj'], ['status'], ['validate'], ['plan'], ['--help']];
const run = (main, args) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [main, '--dir', dir, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fleet ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
run(builds.this, ['allocate']);

const key = (args, build) => `${args.join(' ')}|${build}`;
const times = Object.fromEntries(
  commands.flatMap((args) => Object.keys(builds).map((b) => [key(args, b), []])),
);
for (let r = 0; r < RUNS; r++)
  for (const args of commands)
    for (const [b, main] of Object.entries(builds)) times[key(args, b)].push(run(main, args));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`fleet start-up, ${RUNS} runs each, interleaved (median / min ms)`);
for (const args of commands) {
  const name = `fleet ${args.join(' ')}`;
  const cells = Object.keys(builds).map((b) => {
    const xs = times[key(args, b)];
    return `${b} ${median(xs).toFixed(0).padStart(5)} / ${Math.min(...xs)
      .toFixed(0)
      .padStart(4)}`;
  });
  const ratio = builds.baseline
    ? `  ${(median(times[key(args, 'this')]) / median(times[key(args, 'baseline')])).toFixed(2)}x`
    : '';
  console.log(`  ${name.padEnd(20)} ${cells.join('   ')}${ratio}`);
}
console.log(`  load average: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
rmSync(dir, { recursive: true, force: true });
