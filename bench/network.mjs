// bench/network.mjs -- one tiny agent (TCG, the project's test image) per network setup, side by side:
//   firewall  `network: isolated` with networkFirewall on (the default as root): passt as agentfleet-passt
//             behind the fleet's nftables table, QEMU joins it with -netdev stream
//   passt     `network: isolated`, networkFirewall: off (passt as fleet's user)
//   hostfwd   `network: open` (QEMU's own user networking, hostfwd)
// For each: boot to SSH-ready (`fleet up --no-provision` from a defined nothing to a verified SSH login);
// then over plain `ssh -F <stateDir>/ssh_config` through the agent's forward: round-trip latency (one
// session running `cat`, one line at a time), upload and download throughput (MIB MiB through `cat`
// and `head -c`); then `destroy --purge`. The setups alternate, the first rotating every round; medians.
// Run as root after `npx tsc -b`, libvirtd up: node bench/network.mjs (ROUNDS=5, PINGS=50, MIB=8;
// CASES=firewall,hostfwd for a subset). No guest traffic leaves the forward: nothing reaches the network.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const main = join(repo, 'packages/cli/dist/main.js');
const URI = 'qemu:///system';
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const PINGS = Number(process.env.PINGS ?? 50);
const MIB = Number(process.env.MIB ?? 8);
const CASES = {
  firewall: ['network: isolated', 'networkFirewall: on'],
  passt: ['network: isolated', 'networkFirewall: off'],
  hostfwd: ['network: open', 'portForward: hostfwd'],
};
const cases = (process.env.CASES ?? Object.keys(CASES).join(',')).split(',');
const imageDir = join(repo, '.cache/testvm');
execFileSync(join(repo, 'scripts/make-test-image.sh'), [imageDir], { stdio: 'ignore' });
const base = join(imageDir, 'base.qcow2');
const key = join(imageDir, 'id_ed25519');
const tag = `bn${process.pid.toString(36)}`;
const portBase = 41180 + Math.floor(Math.random() * 2) * 10;

const fleetCli = (dir, args) =>
  execFileSync(process.execPath, [main, '--dir', dir, ...args], { encoding: 'utf8' });
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** An ssh through the agent's forward, as a user would run it. */
const sshArgs = (stateDir, name, command) => [
  '-F',
  join(stateDir, 'ssh_config'),
  '-o',
  'BatchMode=yes',
  name,
  command,
];

/** Median round trip of one line through a remote `cat`, in ms (the session is set up before timing). */
function latency(stateDir, name) {
  return new Promise((resolve, reject) => {
    const ssh = spawn('ssh', sshArgs(stateDir, name, 'cat'), { stdio: ['pipe', 'pipe', 'inherit'] });
    const rtts = [];
    let t0 = 0;
    let buf = '';
    const ping = () => {
      t0 = performance.now();
      ssh.stdin.write('x\n');
    };
    ssh.stdout.on('data', (d) => {
      buf += d;
      while (buf.includes('\n')) {
        buf = buf.slice(buf.indexOf('\n') + 1);
        // The first echo also pays for the session's setup: warm-up, not measured.
        if (t0 && rtts.push(performance.now() - t0) > PINGS) {
          ssh.stdin.end();
          return;
        }
        ping();
      }
    });
    ssh.on('error', reject);
    ssh.on('close', (code) =>
      rtts.length > PINGS ? resolve(median(rtts.slice(1))) : reject(new Error(`ssh cat exited ${code}`)),
    );
    ping();
  });
}

/** MiB/s of MIB MiB pushed into a remote `cat > /dev/null` (up) or read from `head -c` (down). */
function throughput(stateDir, name, direction) {
  const bytes = MIB * 1024 * 1024;
  const command = direction === 'up' ? 'cat > /dev/null' : `head -c ${bytes} /dev/zero`;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const ssh = spawn('ssh', sshArgs(stateDir, name, command), { stdio: ['pipe', 'pipe', 'inherit'] });
    let got = 0;
    ssh.stdout.on('data', (d) => {
      got += d.length;
    });
    ssh.on('error', reject);
    ssh.on('close', (code) => {
      const s = (performance.now() - t0) / 1000;
      if (code !== 0 || (direction === 'down' && got !== bytes))
        return reject(new Error(`ssh ${command} exited ${code} after ${got} bytes`));
      resolve(MIB / s);
    });
    if (direction === 'up') {
      const chunk = Buffer.alloc(1024 * 1024);
      let left = MIB;
      const more = () => {
        while (left > 0) {
          left--;
          if (!ssh.stdin.write(chunk)) return ssh.stdin.once('drain', more);
        }
        ssh.stdin.end();
      };
      more();
    } else ssh.stdin.end();
  });
}

async function once(kase, round) {
  const dir = mkdtempSync(join(tmpdir(), `net-bench-${kase}-`));
  const stateDir = join(dir, 'state');
  const name = `${tag}${kase[0]}${round}`;
  mkdirSync(join(dir, 'agents'));
  writeFileSync(
    join(dir, 'agents', 'fleet.yaml'),
    [
      `libvirtUri: ${URI}`,
      `stateDir: ${stateDir}`,
      `baseImage: ${base}`,
      'domainType: qemu',
      ...CASES[kase],
      'diskMode: overlay',
      'reservedCores: []',
      `sshPorts: { start: ${portBase}, end: ${portBase + 4} }`,
      `spicePorts: { start: ${portBase + 5}, end: ${portBase + 9} }`,
      `ssh: { user: root, identityFile: ${key} }`,
      'bootTimeouts: { sshSeconds: 600, shutdownSeconds: 30 }',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'agents', `${name}.yaml`),
    `memory: 256MiB\nvcpus: 1\nshareCores: true\ndesktop: false\ngit: { email: ${name}@example.org }\n`,
  );
  try {
    fleetCli(dir, ['allocate']);
    const t0 = performance.now();
    fleetCli(dir, ['up', '--no-provision']);
    const bootS = (performance.now() - t0) / 1000;
    return {
      bootS,
      rttMs: await latency(stateDir, name),
      upMiBs: await throughput(stateDir, name, 'up'),
      downMiBs: await throughput(stateDir, name, 'down'),
    };
  } finally {
    try {
      fleetCli(dir, ['destroy', '--purge', '--yes', name]);
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

const results = Object.fromEntries(cases.map((c) => [c, []]));
const loads = [];
for (let round = 0; round < ROUNDS; round++) {
  const order = cases.map((_, i) => cases[(i + round) % cases.length]);
  for (const kase of order) {
    loads.push(loadavg()[0]);
    const r = await once(kase, round);
    results[kase].push(r);
    process.stderr.write(
      `round ${round + 1}/${ROUNDS} ${kase}: boot ${r.bootS.toFixed(2)} s, rtt ${r.rttMs.toFixed(2)} ms, up ${r.upMiBs.toFixed(1)} MiB/s, down ${r.downMiBs.toFixed(1)} MiB/s\n`,
    );
  }
}

const metrics = [
  ['bootS', 'boot to SSH-ready (s)', 2],
  ['rttMs', `SSH round trip, median of ${PINGS} (ms)`, 2],
  ['upMiBs', `SSH upload ${MIB} MiB (MiB/s)`, 1],
  ['downMiBs', `SSH download ${MIB} MiB (MiB/s)`, 1],
];
const ref = cases.includes('hostfwd') ? 'hostfwd' : cases[0];
console.log(
  `one agent, ${ROUNDS} rounds interleaved, medians; load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`,
);
console.log(
  `| | ${cases.join(' | ')} | ${cases
    .filter((c) => c !== ref)
    .map((c) => `${c}/${ref}`)
    .join(' | ')} |`,
);
console.log(`|${' --- |'.repeat(1 + cases.length * 2 - 1)}`);
for (const [key, label, digits] of metrics) {
  const med = Object.fromEntries(cases.map((c) => [c, median(results[c].map((r) => r[key]))]));
  const runs = (c) => results[c].map((r) => r[key].toFixed(digits)).join(', ');
  console.log(
    `| ${label} | ${cases.map((c) => `${med[c].toFixed(digits)} (${runs(c)})`).join(' | ')} | ${cases
      .filter((c) => c !== ref)
      .map((c) => (med[c] / med[ref]).toFixed(3))
      .join(' | ')} |`,
  );
}
