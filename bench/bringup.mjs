// bench/bringup.mjs -- N tiny agents from nothing to all answering SSH (TCG, the project's test image), side by
// side in one run, cases interleaved with the order rotated each round, medians:
//   fleet    `fleet up --no-provision -c N` (overlay disks, fleet's placement and readiness), `network: open`
//            (QEMU hostfwd, the network every other case uses)
//   isolated the same with fleet's default network (passt per agent; as root behind the networkFirewall table)
//   nokey    `fleet` with --no-pregenerate-host-keys: no host key handed over by fw_cfg, so each guest makes its own
//            as the bare case's guests do (the test image's hand-over runs OpenSSH's ssh-keygen under TCG)
//   baseline `fleet` from another checkout's build (BASELINE=/path/to/checkout, after its `npm run build`): a change
//            against the code before it, in the same run
//   manual   bench/bringup-manual.sh: the seeds' flow scripted in parallel (qemu-img overlay, virsh define/start,
//            ssh every second with ConnectTimeout=5), the same domain XML as fleet
//   bare     the same domains (one guest per core while N <= cores), overlays made and defined before the clock
//            starts, started at once with virsh, ssh probed every 0.1 s with ConnectTimeout=1: a floor, not a tool
//   virt-install  `virt-install --import` per agent in parallel (Debian virtinst; skipped when absent), hostfwd
//            through --qemu-commandline, same cores, ssh probed like `manual`
//   vagrant  vagrant-libvirt (Debian's vagrant + vagrant-libvirt; skipped when absent): the test image as a box,
//            `vagrant up --parallel`, root with the test key, `config.ssh.shell = "sh"` (busybox), its own management
//            network (DHCP, dnsmasq) and storage pool, made before the clock starts, the box uploaded by a warm-up run
// Ground truth for "ready": the guest's console line "AGENTFLEET READY" (printed right after its sshd starts),
// read from each guest's serial log. Each case reports the wall time of the tool and how late it noticed the
// last guest (tool done minus last console line), and its own time: until the first domain started (the serial
// log's birth time) plus after the last READY line, which the guests' boot (seconds of spread on TCG) is not in.
// Run as root after `npm run build`, libvirtd up: node bench/bringup.mjs [N...] (default 1 2 4); ROUNDS=3;
// CASES=fleet,bare for a subset; PORTS=41500 for a block of 100 host ports; TRACE=1 prints fleet's debug log (and
// when the bare case's domains started).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const main = join(repo, 'packages/cli/dist/main.js');
const URI = 'qemu:///system';
const sizes = process.argv.slice(2).map(Number);
const Ns = sizes.length ? sizes : [1, 2, 4];
const imageDir = join(repo, '.cache/testvm');
execFileSync(join(repo, 'scripts/make-test-image.sh'), [imageDir], { stdio: 'ignore' });
const base = join(imageDir, 'base.qcow2');
const key = join(imageDir, 'id_ed25519');
const tag = `bn${process.pid.toString(36)}`;
// PORTS=41500: a block of 100 host ports, 20 per fleet repo (10 SSH, 10 SPICE), reused round-robin.
const portBlock = Number(process.env.PORTS ?? 34000 + Math.floor(Math.random() * 8) * 100);
let portBase = portBlock;
const cpus = availableParallelism();
const hasVirtInstall = (() => {
  try {
    execFileSync('virt-install', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const hasVagrant = (() => {
  try {
    return execFileSync('vagrant', ['plugin', 'list'], { encoding: 'utf8' }).includes('vagrant-libvirt');
  } catch {
    return false;
  }
})();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const fleetCli = (dir, args, cli = main) =>
  execFileSync(process.execPath, [cli, '--dir', dir, ...args], { encoding: 'utf8' });

/** A fleet repo with N agents, allocated; returns its dir, names, ssh ports and console logs. */
function fleetRepo(label, n, network = 'network: open\nportForward: hostfwd') {
  const dir = mkdtempSync(`/tmp/bench-bringup-${label}-`);
  mkdirSync(join(dir, 'agents'));
  const start = portBase;
  portBase = portBase >= portBlock + 80 ? portBlock : portBase + 20;
  writeFileSync(
    join(dir, 'agents', 'fleet.yaml'),
    `libvirtUri: ${URI}\nstateDir: ${join(dir, 'state')}\nbaseImage: ${base}\ndomainType: qemu\n${network}\ndiskMode: overlay\nreservedCores: []\nsshPorts: { start: ${start}, end: ${start + 9} }\nspicePorts: { start: ${start + 10}, end: ${start + 19} }\nssh: { user: root, identityFile: ${key} }\nbootTimeouts: { sshSeconds: 600, shutdownSeconds: 30 }\n`,
  );
  const names = Array.from({ length: n }, (_, i) => `${tag}${label}${i}`);
  for (const [i, name] of names.entries()) {
    // One guest per core, as fleet's placement gives new agents (explicit here so every case boots alike).
    writeFileSync(
      join(dir, 'agents', `${name}.yaml`),
      `memory: 256MiB\nvcpus: 1\nshareCores: true\ncores: [${i % cpus}]\ndesktop: false\ngit: { email: ${name}@example.org }\n`,
    );
  }
  fleetCli(dir, ['allocate']);
  const status = JSON.parse(fleetCli(dir, ['--json', 'status']));
  const ports = new Map(status.agents.map((a) => [a.name, a.sshPort]));
  const state = join(dir, 'state');
  mkdirSync(state, { recursive: true });
  const consoles = names.map((nm) => join(state, `agent-${nm}.console.log`));
  return { dir, names, ports, state, consoles, domains: names.map((nm) => `agent-${nm}`) };
}

function cleanup(r) {
  for (const d of r.domains) {
    for (const cmd of ['destroy', 'undefine']) {
      try {
        execFileSync('virsh', ['-c', URI, cmd, d], { stdio: 'ignore' });
      } catch {}
    }
  }
  rmSync(r.dir, { recursive: true, force: true });
}

/** Children of the case running now, each its own process group, killed when a guest's kernel panics. */
const live = new Set();
let panicked = false;

function run(cmd, args, onStderr) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    live.add(child);
    child.on('exit', () => live.delete(child));
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      onStderr?.(d);
    });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exit ${code}: ${err}`))));
  });
}

/**
 * Resolves with the time each console log first shows the READY line (polled every 20 ms). A TCG guest on a very
 * loaded host can panic at boot ("IO-APIC + timer doesn't work"): then the case's processes are killed and the
 * sample is retried.
 */
function watchConsoles(files) {
  const seen = files.map(() => undefined);
  // When each console log was created (its birth time, on this clock): the moment the domain started, as QEMU's
  // log is opened at start. What a case spends before it and after the READY line is the tool's own; the boot
  // between them is the guest's, and varies by seconds from one boot to the next on a shared TCG host.
  const created = files.map(() => undefined);
  let stop = false;
  const done = (async () => {
    while (!stop && seen.some((s) => s === undefined)) {
      files.forEach((f, i) => {
        if (created[i] === undefined && existsSync(f))
          created[i] = statSync(f).birthtimeMs - performance.timeOrigin;
        const text = seen[i] === undefined && existsSync(f) ? readFileSync(f, 'latin1') : '';
        if (text.includes('AGENTFLEET READY')) seen[i] = now();
        else if (text.includes('Kernel panic')) {
          stop = true;
          panicked = true;
          for (const c of live) process.kill(-c.pid, 'SIGKILL');
        }
      });
      await sleep(20);
    }
    return { seen, created };
  })();
  return { done, cancel: () => (stop = true) };
}

const sshArgs = (port, kh, connectTimeout) => [
  '-q',
  '-p',
  String(port),
  '-i',
  key,
  '-o',
  'IdentitiesOnly=yes',
  '-o',
  'BatchMode=yes',
  '-o',
  `ConnectTimeout=${connectTimeout}`,
  '-o',
  `UserKnownHostsFile=${kh}`,
  '-o',
  'StrictHostKeyChecking=accept-new',
  'root@127.0.0.1',
  'true',
];

async function sshUntilReady(port, kh, connectTimeout, pauseMs) {
  for (;;) {
    try {
      return await run('ssh', sshArgs(port, kh, connectTimeout));
    } catch (err) {
      if (panicked) throw err;
      await sleep(pauseMs);
    }
  }
}

/** XML files from `fleet xml`, so the script and the bare run boot exactly what fleet would define. */
function domainXmls(r) {
  return r.names.map((n) => {
    // fleet makes each agent's private socket directory (SPICE) before it starts the domain.
    mkdirSync(join(r.state, 'run', `agent-${n}`), { recursive: true, mode: 0o700 });
    const file = join(r.dir, `${n}.xml`);
    writeFileSync(
      file,
      fleetCli(r.dir, ['xml', n, '--domain-type', 'qemu', '--network', 'open', '--port-forward', 'hostfwd']),
    );
    return { name: n, xml: file, disk: join(r.state, `agent-${n}.qcow2`), port: r.ports.get(n) };
  });
}

/** Times `body` (from its start to its end), the guests' READY lines and when the first domain started. */
async function timed(r, body) {
  const t0 = now();
  const watch = watchConsoles(r.consoles);
  try {
    await body();
  } finally {
    setTimeout(watch.cancel, 5000);
  }
  const wall = now() - t0;
  const { seen, created } = await watch.done;
  const ready = seen.every((s) => s !== undefined) ? Math.max(...seen) - t0 : Number.NaN;
  return { wall, ready, readyEach: seen.map((x) => x - t0), started: Math.min(...created) - t0 };
}

/** `fleet up` of N new agents; `isolated`: fleet's default network (passt, behind the firewall as root). */
async function fleetCase(n, isolated, cli = main, extra = []) {
  const r = isolated ? fleetRepo('i', n, 'network: isolated') : fleetRepo('f', n);
  // TRACE=1: fleet's debug log, each line stamped with the time it reached the script, printed after the sample.
  const trace = [];
  const onStderr = process.env.TRACE
    ? (d) =>
        trace.push(
          ...String(d)
            .split('\n')
            .filter(Boolean)
            .map((l) => [now(), l]),
        )
    : undefined;
  const debug = process.env.TRACE ? ['--log-level', 'debug'] : [];
  try {
    const t0 = now();
    const sample = await timed(r, () =>
      run(
        process.execPath,
        [cli, ...debug, '--dir', r.dir, 'up', '--no-provision', '--concurrency', String(n), ...extra],
        onStderr,
      ),
    );
    if (process.env.TRACE)
      console.error(`    READY lines at ${sample.readyEach.map((x) => (x / 1000).toFixed(2)).join(', ')} s`);
    for (const [t, line] of trace)
      console.error(`    ${((t - t0) / 1000).toFixed(2).padStart(6)} ${line.slice(0, 200)}`);
    return sample;
  } finally {
    // passt outlives its domain unless fleet itself takes the agents down.
    try {
      if (isolated) fleetCli(r.dir, ['destroy', '--purge', '--yes', ...r.names]);
    } finally {
      cleanup(r);
    }
  }
}

const cases = {
  fleet: (n) => fleetCase(n, false),
  isolated: (n) => fleetCase(n, true),
  nokey: (n) => fleetCase(n, false, main, ['--no-pregenerate-host-keys']),
  baseline: (n) => fleetCase(n, false, join(process.env.BASELINE ?? '', 'packages/cli/dist/main.js')),
  async manual(n) {
    const r = fleetRepo('m', n);
    try {
      const args = domainXmls(r).flatMap((d) => [d.disk, d.xml, String(d.port)]);
      return await timed(r, () =>
        run(join(repo, 'bench/bringup-manual.sh'), [URI, join(r.dir, 'known_hosts'), key, base, ...args]),
      );
    } finally {
      cleanup(r);
    }
  },
  async bare(n) {
    const r = fleetRepo('b', n);
    try {
      const ds = domainXmls(r);
      for (const d of ds) {
        execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, d.disk]);
        execFileSync('virsh', ['-c', URI, 'define', d.xml], { stdio: 'ignore' });
      }
      const kh = join(r.dir, 'known_hosts');
      // TRACE=1: when each `virsh start` returned, beside fleet's "domain started" debug lines.
      const t0 = now();
      const started = [];
      const sample = await timed(r, () =>
        Promise.all(
          ds.map(async (d) => {
            await run('virsh', ['-c', URI, 'start', `agent-${d.name}`]);
            started.push(now() - t0);
            await sshUntilReady(d.port, kh, 1, 100);
          }),
        ),
      );
      if (process.env.TRACE)
        console.error(
          `    domains started at ${started.map((x) => (x / 1000).toFixed(2)).join(', ')} s; READY lines at ` +
            `${sample.readyEach.map((x) => (x / 1000).toFixed(2)).join(', ')} s`,
        );
      return sample;
    } finally {
      cleanup(r);
    }
  },
  async 'virt-install'(n) {
    const r = fleetRepo('v', n);
    try {
      const kh = join(r.dir, 'known_hosts');
      let queue = Promise.resolve();
      return await timed(r, () =>
        Promise.all(
          r.names.map(async (name, i) => {
            const disk = join(r.state, `agent-${name}.qcow2`);
            await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, disk]);
            const port = r.ports.get(name);
            // virt-install defines a storage pool for the disk's directory; two at once race on its name.
            const installed = queue.then(() =>
              run('virt-install', [
                '--connect',
                URI,
                '--name',
                `agent-${name}`,
                '--virt-type',
                'qemu',
                '--memory',
                '256',
                '--vcpus',
                `1,cpuset=${i % cpus}`,
                '--import',
                '--disk',
                `path=${disk},format=qcow2,bus=virtio`,
                '--osinfo',
                'detect=off,require=off',
                '--network',
                'none',
                `--qemu-commandline=-netdev user,id=net0,hostfwd=tcp:127.0.0.1:${port}-:22 -device virtio-net-pci,netdev=net0,bus=pci.0,addr=0x10`,
                '--graphics',
                'none',
                '--serial',
                `file,path=${r.consoles[i]}`,
                '--noautoconsole',
              ]),
            );
            queue = installed;
            await installed;
            await sshUntilReady(port, kh, 5, 1000);
          }),
        ),
      );
    } finally {
      cleanup(r);
      removePools(r.state);
    }
  },
};

/**
 * vagrant-libvirt's own prerequisites, made once before any clock starts: the test image as a box (added to vagrant),
 * a storage pool for its volumes and a management network of our own (a NAT network with dnsmasq: vagrant reads the
 * guest's address from its DHCP leases). One warm-up `vagrant up` uploads the box into the pool, as a user's first
 * `vagrant up` of a box does once.
 */
const vagrantEnv = {
  box: `${tag}-testvm`,
  pool: `${tag}-pool`,
  poolDir: `/tmp/bench-vagrant-pool-${tag}`,
  net: `${tag}-mgmt`,
  boxDir: `/tmp/bench-vagrant-box-${tag}`,
  ready: false,
};

function vagrantfile(r, names) {
  const machines = names
    .map(
      (name, i) => `  c.vm.define "${name}" do |m|
    m.vm.provider :libvirt do |l|
      l.serial :type => "file", :source => { :path => "${r.consoles[i]}" }
      l.cpuset = "${i % cpus}"
    end
  end`,
    )
    .join('\n');
  return `Vagrant.configure("2") do |c|
  c.vm.box = "${vagrantEnv.box}"
  c.vm.guest = :linux
  # vagrant's 300 s default held a whole N=4 run when its dnsmasq left a guest without a lease: a failed sample
  # is counted sooner.
  c.vm.boot_timeout = 180
  c.vm.synced_folder ".", "/vagrant", disabled: true
  c.ssh.username = "root"
  c.ssh.private_key_path = "${key}"
  c.ssh.insert_key = false
  c.ssh.shell = "sh"
  c.vm.provider :libvirt do |l|
    l.uri = "${URI}"
    l.driver = "qemu"
    l.memory = 256
    l.cpus = 1
    l.graphics_type = "none"
    l.video_type = "none"
    l.storage_pool_name = "${vagrantEnv.pool}"
    l.management_network_name = "${vagrantEnv.net}"
    l.management_network_address = "192.168.241.0/24"
  end
${machines}
end
`;
}

function vagrantPrepare() {
  if (vagrantEnv.ready) return;
  const e = vagrantEnv;
  mkdirSync(e.boxDir, { recursive: true });
  execFileSync('qemu-img', ['convert', '-O', 'qcow2', base, join(e.boxDir, 'box.img')]);
  writeFileSync(
    join(e.boxDir, 'metadata.json'),
    '{"provider":"libvirt","format":"qcow2","virtual_size":1}\n',
  );
  execFileSync('tar', ['czf', join(e.boxDir, 'box.box'), '-C', e.boxDir, 'metadata.json', 'box.img']);
  execFileSync('vagrant', ['box', 'add', '--force', '--name', e.box, join(e.boxDir, 'box.box')], {
    stdio: 'ignore',
  });
  mkdirSync(e.poolDir, { recursive: true });
  execFileSync('virsh', ['-c', URI, 'pool-create-as', e.pool, 'dir', '--target', e.poolDir], {
    stdio: 'ignore',
  });
  vagrantEnv.ready = true;
}

function vagrantTeardown() {
  if (!vagrantEnv.ready) return;
  const e = vagrantEnv;
  for (const args of [
    ['pool-destroy', e.pool],
    ['net-destroy', e.net],
    ['net-undefine', e.net],
  ]) {
    try {
      execFileSync('virsh', ['-c', URI, ...args], { stdio: 'ignore' });
    } catch {}
  }
  try {
    execFileSync('vagrant', ['box', 'remove', '--force', e.box], { stdio: 'ignore' });
  } catch {}
  rmSync(e.poolDir, { recursive: true, force: true });
  rmSync(e.boxDir, { recursive: true, force: true });
}

async function vagrantCase(n) {
  vagrantPrepare();
  if (!vagrantEnv.warm) {
    vagrantEnv.warm = true;
    await vagrantCase(1); // uploads the box into the pool, untimed
  }
  const r = fleetRepo('g', n);
  const vdir = join(r.dir, 'vagrant');
  mkdirSync(vdir);
  writeFileSync(join(vdir, 'Vagrantfile'), vagrantfile(r, r.names));
  const env = { ...process.env, VAGRANT_CWD: vdir, VAGRANT_DEFAULT_PROVIDER: 'libvirt' };
  const vagrant = (args) =>
    new Promise((resolve, reject) => {
      const child = spawn('vagrant', args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      live.add(child);
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (code) => {
        live.delete(child);
        code === 0
          ? resolve()
          : reject(new Error(`vagrant ${args.join(' ')} exit ${code}: ${out.slice(-2000)}`));
      });
    });
  try {
    return await timed(r, () => vagrant(['up', '--parallel', '--provider', 'libvirt']));
  } finally {
    await vagrant(['destroy', '-f']).catch((err) => console.error(`  (vagrant destroy: ${err.message})`));
    cleanup(r);
  }
}
cases.vagrant = vagrantCase;

/** Storage pools virt-install defined for `dir`. */
function removePools(dir) {
  const virsh = (...a) => execFileSync('virsh', ['-c', URI, ...a], { encoding: 'utf8' });
  for (const pool of virsh('pool-list', '--all', '--name')
    .split('\n')
    .map((p) => p.trim())
    .filter(Boolean)) {
    // Other users of the shared daemon add and remove pools meanwhile.
    const xml = (() => {
      try {
        return virsh('pool-dumpxml', pool);
      } catch {
        return '';
      }
    })();
    if (!xml.includes(`<path>${dir}</path>`)) continue;
    try {
      virsh('pool-destroy', pool);
    } catch {}
    virsh('pool-undefine', pool);
  }
}

// CASES=fleet,bare reruns a subset (e.g. the key comparison once the machine is quieter).
const only = process.env.CASES?.split(',');
const names = Object.keys(cases).filter(
  (c) =>
    (c !== 'virt-install' || hasVirtInstall) &&
    (c !== 'vagrant' || hasVagrant) &&
    (c !== 'baseline' || process.env.BASELINE !== undefined) &&
    (!only || only.includes(c)),
);
console.log(
  `bring-up to SSH-ready, TCG, tiny image (${URI}), ${cpus} cpus; load average before ${loadavg()}` +
    (hasVirtInstall ? '' : ' (virt-install not installed: case skipped)') +
    (hasVagrant ? '' : ' (vagrant-libvirt not installed: case skipped)'),
);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
// The middle sample, or the mean of the two middle ones.
const median = (xs) => {
  const o = [...xs].sort((a, b) => a - b);
  const m = Math.floor(o.length / 2);
  return o.length % 2 ? o[m] : (o[m - 1] + o[m]) / 2;
};
const s = (ms) => (ms / 1000).toFixed(1);
try {
  for (const n of Ns) {
    const t = Object.fromEntries(names.map((c) => [c, []]));
    const failed = {};
    const loads = [];
    // Interleaved rounds with the order rotated, so load swings and warm caches hit every case alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < names.length; k++) {
        const c = names[(round + k) % names.length];
        loads.push(Number(loadavg().split(' ')[0]));
        let failure;
        for (let attempt = 1; ; attempt++) {
          panicked = false;
          const sample = await cases[c](n).catch((err) => {
            if (!panicked || attempt >= 3) failure = err;
          });
          if (failure) break;
          if (sample && !panicked) {
            t[c].push({ ...sample, round });
            break;
          }
          console.error(`  (N=${n} ${c}: a guest's kernel panicked at boot; sample retried)`);
        }
        // A tool that fails a bring-up (vagrant's boot timeout under load) is counted and shown, not averaged in,
        // and the other cases' rounds go on.
        if (failure) {
          failed[c] = (failed[c] ?? 0) + 1;
          console.error(`  (N=${n} round ${round + 1} ${c}: FAILED: ${String(failure.message).slice(-300)})`);
          continue;
        }
        const last = t[c][t[c].length - 1];
        console.error(`  (N=${n} round ${round + 1} ${c}: ${s(last.wall)} s, READY at ${s(last.ready)} s)`);
      }
    }
    const med = Object.fromEntries(names.map((c) => [c, median(t[c].map((x) => x.wall))]));
    console.log(`N=${n} (load average 1-min during the rounds: ${Math.min(...loads)}-${Math.max(...loads)})`);
    for (const c of names) {
      const late = t[c].map((x) => x.wall - x.ready);
      // Paired: each round's sample over the same round's bare sample (run minutes apart at most, so under the same
      // load), then the median of those ratios: a drift in load between rounds cancels out.
      const paired = t[c].flatMap((x) =>
        (t.bare ?? []).filter((b) => b.round === x.round).map((b) => x.wall / b.wall),
      );
      console.log(
        `  ${c.padEnd(12)} ${s(med[c])} s [${t[c].map((x) => s(x.wall)).join(', ')}]${failed[c] ? ` (${failed[c]} failed)` : ''}  last READY line ${s(median(t[c].map((x) => x.ready)))} s, noticed ${s(median(late))} s after it; ${med.bare ? `${(med[c] / med.bare).toFixed(2)}x bare (paired by round: ${median(paired).toFixed(2)}x)` : 'no bare case run'}`,
      );
      // The tool's own time, without the guests' boot: until the first domain started, plus after the last READY.
      const own = t[c].map((x) => x.started + x.wall - x.ready);
      console.log(
        `  ${''.padEnd(12)} own time ${s(median(own))} s [${own.map(s).join(', ')}]: first domain started at ${s(median(t[c].map((x) => x.started)))} s; guests' boot (started -> last READY) ${s(median(t[c].map((x) => x.ready - x.started)))} s`,
      );
    }
  }
  console.log(`load average after: ${loadavg()}`);
} finally {
  vagrantTeardown();
}
