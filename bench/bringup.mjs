// bench/bringup.mjs -- N tiny agents from nothing to all-SSH-ready (TCG, the project's test image):
// `fleet up` versus the seeds' manual flow as a script (bench/bringup-manual.sh: cp, virsh define,
// virsh start, ssh poll every 2 s, one agent after another), next to the bare boot time (the same
// domains started at once with virsh, ssh polled every 0.1 s: what no tool can beat).
// Run as root after `npm run build`, libvirtd up: node bench/bringup.mjs [N...] (default 2 4);
// ROUNDS=3 (default) repeats the three runs per size, interleaved, and reports medians.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const main = join(repo, 'packages/cli/dist/main.js');
const URI = 'qemu:///system';
const sizes = process.argv.slice(2).map(Number);
const Ns = sizes.length ? sizes : [2, 4];
const imageDir = join(repo, '.cache/testvm');
execFileSync(join(repo, 'scripts/make-test-image.sh'), [imageDir], { stdio: 'ignore' });
const base = join(imageDir, 'base.qcow2');
const key = join(imageDir, 'id_ed25519');
const tag = `b${process.pid.toString(36)}`;
let portBase = 42000 + Math.floor(Math.random() * 100) * 100;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6;
const fleetCli = (dir, args) =>
  execFileSync(process.execPath, [main, '--dir', dir, ...args], { encoding: 'utf8' });

/** A fleet repo with N agents, allocated; returns its dir, names and ssh ports. */
function fleetRepo(label, n) {
  const dir = mkdtempSync(join(tmpdir(), `fleet-bench-${label}-`));
  mkdirSync(join(dir, 'agents'));
  const start = portBase;
  portBase += 100;
  writeFileSync(
    join(dir, 'agents', 'fleet.yaml'),
    `libvirtUri: ${URI}\nstateDir: ${join(dir, 'state')}\nbaseImage: ${base}\ndomainType: qemu\nnetwork: open\nportForward: hostfwd\ndiskMode: copy\nreservedCores: []\nsshPorts: { start: ${start}, end: ${start + 49} }\nspicePorts: { start: ${start + 50}, end: ${start + 99} }\nssh: { user: root, identityFile: ${key} }\nbootTimeouts: { sshSeconds: 600, shutdownSeconds: 30 }\n`,
  );
  const names = Array.from({ length: n }, (_, i) => `${tag}${label}${i}`);
  for (const name of names) {
    writeFileSync(
      join(dir, 'agents', `${name}.yaml`),
      `memory: 256MiB\nvcpus: 1\nshareCores: true\ndesktop: false\ngit: { email: ${name}@example.org }\n`,
    );
  }
  fleetCli(dir, ['allocate']);
  const status = JSON.parse(fleetCli(dir, ['--json', 'status']));
  const ports = new Map(status.agents.map((a) => [a.name, a.sshPort]));
  return { dir, names, ports, state: join(dir, 'state') };
}

function cleanup(repoInfo) {
  for (const n of repoInfo.names) {
    for (const cmd of ['destroy', 'undefine']) {
      try {
        execFileSync('virsh', ['-c', URI, cmd, `agent-${n}`], { stdio: 'ignore' });
      } catch {}
    }
  }
  rmSync(repoInfo.dir, { recursive: true, force: true });
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exit ${code}: ${err}`))));
  });
}

/** XML files for `fleet xml`, so the script and the bare run boot exactly what fleet would define. */
function domainXmls(r) {
  mkdirSync(r.state, { recursive: true });
  return r.names.map((n) => {
    const file = join(r.dir, `${n}.xml`);
    writeFileSync(
      file,
      fleetCli(r.dir, ['xml', n, '--domain-type', 'qemu', '--network', 'open', '--port-forward', 'hostfwd']),
    );
    return { name: n, xml: file, disk: join(r.state, `agent-${n}.qcow2`), port: r.ports.get(n) };
  });
}

async function timeFleet(n) {
  const r = fleetRepo('f', n);
  try {
    const t0 = now();
    await run(process.execPath, [main, '--dir', r.dir, 'up', '--no-provision', '--concurrency', String(n)]);
    return now() - t0;
  } finally {
    cleanup(r);
  }
}

async function timeScript(n) {
  const r = fleetRepo('s', n);
  try {
    const args = domainXmls(r).flatMap((d) => [d.disk, d.xml, String(d.port)]);
    const t0 = now();
    await run(join(repo, 'bench/bringup-manual.sh'), [URI, join(r.dir, 'known_hosts'), key, base, ...args]);
    return now() - t0;
  } finally {
    cleanup(r);
  }
}

async function timeBare(n) {
  const r = fleetRepo('b', n);
  try {
    const ds = domainXmls(r);
    for (const d of ds) {
      execFileSync('cp', ['--sparse=always', base, d.disk]);
      execFileSync('virsh', ['-c', URI, 'define', d.xml], { stdio: 'ignore' });
    }
    const kh = join(r.dir, 'known_hosts');
    const t0 = now();
    await Promise.all(
      ds.map(async (d) => {
        await run('virsh', ['-c', URI, 'start', `agent-${d.name}`]);
        for (;;) {
          try {
            await run('ssh', [
              '-q',
              '-p',
              String(d.port),
              '-i',
              key,
              '-o',
              'IdentitiesOnly=yes',
              '-o',
              'BatchMode=yes',
              '-o',
              'ConnectTimeout=5',
              '-o',
              `UserKnownHostsFile=${kh}`,
              '-o',
              'StrictHostKeyChecking=accept-new',
              'root@127.0.0.1',
              'true',
            ]);
            return;
          } catch {
            await sleep(100);
          }
        }
      }),
    );
    return now() - t0;
  } finally {
    cleanup(r);
  }
}

console.log(
  `bring-up to SSH-ready, TCG, tiny image (${URI}); load average ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim()}`,
);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const secs = (xs) =>
  `${(median(xs) / 1000).toFixed(1)} s [${xs.map((x) => (x / 1000).toFixed(1)).join(', ')}]`;
for (const n of Ns) {
  const t = { fleet: [], script: [], bare: [] };
  // Interleaved rounds, so load changes (a shared machine) hit all three alike.
  for (let r = 0; r < ROUNDS; r++) {
    t.fleet.push(await timeFleet(n));
    t.script.push(await timeScript(n));
    t.bare.push(await timeBare(n));
  }
  const [f, s, b] = [median(t.fleet), median(t.script), median(t.bare)];
  console.log(
    `  N=${n}: fleet up ${secs(t.fleet)} | manual script ${secs(t.script)} | bare parallel boot ${secs(t.bare)}`,
  );
  console.log(
    `        fleet/script ${(f / s).toFixed(2)}x (goal <= 0.6x); fleet overhead over bare ${(((f - b) / b) * 100).toFixed(0)}% (goal <= 10%)`,
  );
}
console.log(`  load average after: ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim()}`);
