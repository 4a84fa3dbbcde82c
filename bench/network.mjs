// bench/network.mjs -- boot to SSH-ready of one tiny agent (TCG, the project's test image) with
// `network: isolated` (fleet starts the agent's passt, QEMU joins it with -netdev stream) versus
// `network: open` (QEMU's own user networking, hostfwd): `fleet up --no-provision` from a defined
// nothing to a verified SSH login, then `destroy --purge`. Same image, same fleet settings; the
// two modes alternate (which one goes first flips every round) and medians are reported.
// Run as root after `npx tsc -b`, libvirtd up: node bench/network.mjs (ROUNDS=5 by default).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const main = join(repo, 'packages/cli/dist/main.js');
const URI = 'qemu:///system';
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const imageDir = join(repo, '.cache/testvm');
execFileSync(join(repo, 'scripts/make-test-image.sh'), [imageDir], { stdio: 'ignore' });
const base = join(imageDir, 'base.qcow2');
const key = join(imageDir, 'id_ed25519');
const tag = `bn${process.pid.toString(36)}`;
const portBase = 30900 + Math.floor(Math.random() * 8) * 10;

const fleetCli = (dir, args) =>
  execFileSync(process.execPath, [main, '--dir', dir, ...args], { encoding: 'utf8' });
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function bootOnce(mode, round) {
  const dir = mkdtempSync(join(tmpdir(), `isonet-bench-${mode}-`));
  const name = `${tag}${mode[0]}${round}`;
  mkdirSync(join(dir, 'agents'));
  writeFileSync(
    join(dir, 'agents', 'fleet.yaml'),
    `libvirtUri: ${URI}\nstateDir: ${join(dir, 'state')}\nbaseImage: ${base}\ndomainType: qemu\nnetwork: ${mode}\nportForward: hostfwd\ndiskMode: overlay\nreservedCores: []\nsshPorts: { start: ${portBase}, end: ${portBase + 4} }\nspicePorts: { start: ${portBase + 5}, end: ${portBase + 9} }\nssh: { user: root, identityFile: ${key} }\nbootTimeouts: { sshSeconds: 600, shutdownSeconds: 30 }\n`,
  );
  writeFileSync(
    join(dir, 'agents', `${name}.yaml`),
    `memory: 256MiB\nvcpus: 1\nshareCores: true\ndesktop: false\ngit: { email: ${name}@example.org }\n`,
  );
  try {
    fleetCli(dir, ['allocate']);
    const t0 = performance.now();
    fleetCli(dir, ['up', '--no-provision']);
    return (performance.now() - t0) / 1000;
  } finally {
    try {
      fleetCli(dir, ['destroy', '--purge', name]);
    } catch {
      for (const cmd of ['destroy', 'undefine']) {
        try {
          execFileSync('virsh', ['-c', URI, cmd, `agent-${name}`], { stdio: 'ignore' });
        } catch {}
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const times = { isolated: [], open: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? ['isolated', 'open'] : ['open', 'isolated'];
  for (const mode of order) {
    const s = bootOnce(mode, round);
    times[mode].push(s);
    process.stderr.write(`round ${round + 1}/${ROUNDS} ${mode}: ${s.toFixed(2)} s\n`);
  }
}
const iso = median(times.isolated);
const open = median(times.open);
console.log('boot to SSH-ready, one agent, `fleet up --no-provision` (median of %d, interleaved)', ROUNDS);
console.log(
  `  isolated (passt):        ${iso.toFixed(2)} s   [${times.isolated.map((t) => t.toFixed(1)).join(' ')}]`,
);
console.log(
  `  open (QEMU hostfwd):     ${open.toFixed(2)} s   [${times.open.map((t) => t.toFixed(1)).join(' ')}]`,
);
console.log(`  isolated / open:         ${(iso / open).toFixed(3)}  (goal <= 1.10)`);
