// bench/yaml-fast.mjs -- does core's js-yaml fast path save a user anything? `fleet status` and
// `fleet plan` of a 20-agent fleet (libvirt's test driver: no daemon) with the fast path as shipped
// and switched off (bench/yaml-fast-off.mjs), side by side, interleaved, medians.
// Run after `npm run build`: node bench/yaml-fast.mjs [N] [RUNS]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.argv[2] ?? 20);
const RUNS = Number(process.argv[3] ?? 15);
const main = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const off = fileURLToPath(new URL('./yaml-fast-off.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-yaml-'));
const names = Array.from({ length: N }, (_, i) => `bench${String(i).padStart(3, '0')}`);
mkdirSync(join(dir, 'agents'));
writeFileSync(
  join(dir, 'agents', 'fleet.yaml'),
  `libvirtUri: test:///default\nstateDir: ${join(dir, 'state')}\nbaseImage: /nonexistent.qcow2\nreservedCores: []\nssh: { identityFile: /nonexistent }\nsshPorts: { start: 40000, end: 40999 }\nspicePorts: { start: 41000, end: 41999 }\n`,
);
const ledger = names
  .map(
    (n, i) =>
      `    ${n}:\n      sshPort: ${40000 + i}\n      spicePort: ${41000 + i}\n      cores: [${i % 2}]\n      mac: "52:54:00:00:00:${i.toString(16).padStart(2, '0')}"`,
  )
  .join('\n');
writeFileSync(join(dir, 'agents', 'ledger.yaml'), `version: 1\nhosts:\n  "test:///default":\n${ledger}\n`);
for (const n of names) {
  writeFileSync(
    join(dir, 'agents', `${n}.yaml`),
    `description: bench agent ${n}\nmemory: 256MiB\nvcpus: 1\nshareCores: true\ngit: { email: ${n}@example.org }\n`,
  );
}

function wall(args, env = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  // plan may exit 1 (nothing is defined on the test driver's host for these agents): timed all the same.
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`node ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return { ms, out: r.stdout };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const status = [main, '--dir', dir, '--json', 'status', '-i', '0.01'];
const plan = [main, '--dir', dir, '--json', 'plan'];

// The switch works: with it, the same answer (so the two paths read the files alike).
for (const args of [status, plan]) {
  const a = JSON.parse(wall(['--import', off, ...args], { YAML_FAST: 'on' }).out);
  const b = JSON.parse(wall(['--import', off, ...args]).out);
  const strip = (j) =>
    JSON.stringify(j, (k, v) => (/^(uptimeSeconds|cpuPercent|memoryKiB|rssKiB)$/.test(k) ? 0 : v));
  if (strip(a) !== strip(b)) throw new Error(`${args.at(-1)}: the fast path and the yaml library disagree`);
}

// Both cases run under the same resolve hook (yaml-fast-off.mjs); only the fast path differs.
const on = { YAML_FAST: 'on' };
const cases = {
  "node -e ''": [['-e', '']],
  'status, as shipped': [status],
  'status, fast path': [['--import', off, ...status], on],
  'status, yaml only': [['--import', off, ...status]],
  'plan, fast path': [['--import', off, ...plan], on],
  'plan, yaml only': [['--import', off, ...plan]],
};
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < RUNS; r++)
  for (const [k, [args, env]] of Object.entries(cases)) times[k].push(wall(args, env).ms);

console.log(
  `fleet status / plan, ${N} agents on test:///default, ${RUNS} interleaved runs (median / min / max ms)`,
);
for (const [k, xs] of Object.entries(times)) {
  const f = (x) => x.toFixed(0).padStart(5);
  console.log(`  ${k.padEnd(20)} ${f(median(xs))} / ${f(Math.min(...xs))} / ${f(Math.max(...xs))}`);
}
for (const c of ['status', 'plan']) {
  const gain = median(times[`${c}, yaml only`]) - median(times[`${c}, fast path`]);
  console.log(`  ${c}: the fast path saves ${gain.toFixed(0)} ms (keep it only if >= 50 ms)`);
}
console.log(`  load average: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
rmSync(dir, { recursive: true, force: true });
