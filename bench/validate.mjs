// fleet validate / allocate / xml on a 500-agent fleet, next to bare `node -e ''`, in one run.
// Interleaved runs, medians. Needs the build: npx tsc -b && node bench/validate.mjs [runs]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const AGENTS = 500;
const RUNS = Number(process.argv[2] ?? 15);

// Child mode: time each phase of validate+allocate+xml inside one cold process.
if (process.argv[2] === '--phases') {
  const t = [performance.now()];
  const core = await import('../packages/core/dist/index.js');
  t.push(performance.now());
  const files = readdirSync('agents')
    .filter((f) => f !== 'ledger.yaml')
    .map((f) => ({ path: `agents/${f}`, text: readFileSync(`agents/${f}`, 'utf8') }));
  const fleet = core.loadFleet(files).value;
  t.push(performance.now());
  const ledger = core.parseLedger(readFileSync('agents/ledger.yaml', 'utf8'), 'agents/ledger.yaml').value;
  t.push(performance.now());
  const next = core.allocate(ledger, fleet, {
    uri: 'qemu:///session',
    cpus: 2,
    listeningPorts: [],
    domains: [],
  }).value;
  core.renderLedger(next);
  t.push(performance.now());
  for (const agent of fleet.agents) {
    const allocation = next.hosts['test:///default'][agent.name];
    core.domainXml({
      agent,
      allocation,
      domainType: 'qemu',
      network: { mode: 'isolated', socketPath: '/r/passt.sock' },
      spiceSocket: '/r/spice.sock',
      diskPath: '/d',
      consoleLogPath: '/c',
    });
  }
  t.push(performance.now());
  const names = ['import core', 'read+loadFleet', 'parseLedger', 'allocate+render', `domainXml x${AGENTS}`];
  process.stdout.write(JSON.stringify(Object.fromEntries(names.map((n, i) => [n, t[i + 1] - t[i]]))));
  process.exit(0);
}
const cli = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'agentfleet-bench-'));
mkdirSync(join(dir, 'agents'));
// test:///default: no other domains hold ports there (qemu:///session here runs others' test VMs).
// Ranges far from anything listening here, wide enough for 500 agents; shared cores because no
// host has 500 free ones.
writeFileSync(
  join(dir, 'agents/fleet.yaml'),
  'libvirtUri: test:///default\nsshPorts: { start: 20000, end: 20999 }\nspicePorts: { start: 30000, end: 30999 }\n',
);
for (let i = 0; i < AGENTS; i++) {
  const name = `agent${String(i).padStart(3, '0')}`;
  writeFileSync(
    join(dir, `agents/${name}.yaml`),
    [
      `description: bench agent ${i}`,
      'memory: 4GiB',
      'vcpus: 2',
      'shareCores: true',
      `git: { name: Agent ${i}, email: ${name}@example.com }`,
      `mail: { address: ${name}@example.com, passwordSecret: mail-${name} }`,
      'tailscale: { tags: ["tag:agent"] }',
      `secrets: [mail-${name}]`,
      '',
    ].join('\n'),
  );
}

function wall(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

// Other tests on this machine start VMs on random ports, so a recorded ledger can turn stale
// between runs; each measured allocate therefore starts from no ledger (500 new agents), and
// validate/xml then read the ledger it wrote.
const ledgerFile = join(dir, 'agents/ledger.yaml');
const cases = {
  "node -e ''": ['-e', ''],
  'fleet allocate (new)': [cli, 'allocate'],
  'fleet validate': [cli, 'validate'],
  'fleet xml agent250': [cli, 'xml', 'agent250'],
};
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
const phases = [];
const self = fileURLToPath(import.meta.url);
for (let i = 0; i < RUNS; i++) {
  rmSync(ledgerFile, { force: true });
  for (const [k, args] of Object.entries(cases)) samples[k].push(wall(args));
  const r = spawnSync(process.execPath, [self, '--phases'], { cwd: dir, encoding: 'utf8' });
  phases.push(JSON.parse(r.stdout));
}
rmSync(dir, { recursive: true, force: true });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const base = median(samples["node -e ''"]);
console.log(`${AGENTS} agents, ${RUNS} interleaved runs each, median wall time (ms)`);
for (const [k, xs] of Object.entries(samples)) {
  const m = median(xs);
  console.log(
    `${k.padEnd(22)} ${m.toFixed(0).padStart(6)}   ${k.startsWith('node') ? '' : `+${(m - base).toFixed(0)} over node`}`,
  );
}
console.log('phases inside one cold process (median ms):');
for (const k of Object.keys(phases[0])) {
  console.log(
    `  ${k.padEnd(20)} ${median(phases.map((p) => p[k]))
      .toFixed(0)
      .padStart(6)}`,
  );
}
console.log(
  `load average after the run: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
