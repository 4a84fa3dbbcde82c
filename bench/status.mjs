// bench/status.mjs -- `fleet status` wall time for 50 defined agent domains on libvirt's test
// driver (no daemon: a node file holds the domains), next to bare `node -e ''` start-up and
// `virsh list --all` on the same file. `status` waits out its CPU % window (0.25 s by default);
// `-i 0.001` shows the rest: what loading, reading and querying cost. Run after `npm run build`: node bench/status.mjs [N] [RUNS]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.argv[2] ?? 50);
const RUNS = Number(process.argv[3] ?? 15);
const repo = fileURLToPath(new URL('..', import.meta.url));
const main = join(repo, 'packages/cli/dist/main.js');
const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-status-'));
const names = Array.from({ length: N }, (_, i) => `bench${String(i).padStart(3, '0')}`);

// The test driver reads a whole host (CPUs, domains) from one XML file.
const domains = names
  .map(
    (n, i) => `<domain type='test'><name>agent-${n}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <os><type>hvm</type></os><devices><graphics type='spice' port='${5900 + i}' autoport='no'/></devices></domain>`,
  )
  .join('\n');
const nodeFile = join(dir, 'node.xml');
writeFileSync(
  nodeFile,
  `<node><cpu><mhz>2000</mhz><model>bench</model><active>8</active><max>8</max><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>1</threads></cpu><memory>16777216</memory>\n${domains}\n</node>\n`,
);
const uri = `test://${nodeFile}`;
mkdirSync(join(dir, 'agents'));
writeFileSync(
  join(dir, 'agents', 'fleet.yaml'),
  `libvirtUri: ${uri}\nstateDir: ${join(dir, 'state')}\nbaseImage: /nonexistent.qcow2\nreservedCores: []\nssh: { identityFile: /nonexistent }\nsshPorts: { start: 40000, end: 40999 }\nspicePorts: { start: 41000, end: 41999 }\n`,
);
const ledger = names
  .map(
    (n, i) =>
      `    ${n}:\n      sshPort: ${40000 + i}\n      spicePort: ${41000 + i}\n      cores: [${i % 8}]\n      mac: "52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}"`,
  )
  .join('\n');
writeFileSync(
  join(dir, 'agents', 'ledger.yaml'),
  `version: 1\nhosts:\n  ${JSON.stringify(uri)}:\n${ledger}\n`,
);
for (const n of names) {
  writeFileSync(
    join(dir, 'agents', `${n}.yaml`),
    `memory: 256MiB\nvcpus: 1\nshareCores: true\ngit: { email: ${n}@example.org }\n`,
  );
}

function wall(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return { ms, out: r.stdout };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Sanity: the command really lists N running domains.
const check = JSON.parse(wall(process.execPath, [main, '--dir', dir, '--json', 'status']).out);
const running = check.agents.filter((a) => a.state === 'running').length;
if (running !== N) throw new Error(`expected ${N} running agents, status saw ${running}`);

const cases = {
  "node -e ''": [process.execPath, ['-e', '']],
  'fleet status': [process.execPath, [main, '--dir', dir, 'status']],
  'fleet --json status': [process.execPath, [main, '--dir', dir, '--json', 'status']],
  'fleet status -i 0.001': [process.execPath, [main, '--dir', dir, 'status', '-i', '0.001']],
  'virsh list --all': ['virsh', ['-c', uri, 'list', '--all']],
};
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
// Interleaved, so machine load drifts the same way for every case.
for (let r = 0; r < RUNS; r++)
  for (const [k, [cmd, args]] of Object.entries(cases)) times[k].push(wall(cmd, args).ms);

console.log(
  `fleet status, ${N} defined+running domains on ${uri.replace(dir, '<tmp>')}, ${RUNS} runs each (median / min / max ms)`,
);
for (const [k, xs] of Object.entries(times)) {
  console.log(
    `  ${k.padEnd(22)} ${median(xs).toFixed(0).padStart(5)} / ${Math.min(...xs)
      .toFixed(0)
      .padStart(5)} / ${Math.max(...xs)
      .toFixed(0)
      .padStart(5)}`,
  );
}
const overhead = median(times['fleet status -i 0.001']) - median(times["node -e ''"]);
console.log(
  `  fleet status without its CPU window, minus bare node start-up: ${overhead.toFixed(0)} ms; goal: < 300 ms wall without the window`,
);
console.log(`  load average: ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim()}`);
rmSync(dir, { recursive: true, force: true });
