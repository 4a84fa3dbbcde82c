// Lookups + XML fetches side by side in one run: this binding (awaiting each call, and with 16
// in flight), `virsh` processes, and libvirt's Python binding (python3-libvirt), on the test
// driver (in-process) and on qemu:///system (libvirtd RPC). Then event-loop delay while 100
// binding calls are in flight, next to an idle baseline and one synchronous virsh spawn.
// Run: npm run build && node bench/libvirt.mjs      (env: N, VIRSH_N; QEMU=0 skips the daemon)
import { execFileSync, spawnSync } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { open } from '../packages/libvirt/dist/index.js';

const N = Number(process.env.N ?? 20000);
const VIRSH_N = Number(process.env.VIRSH_N ?? 50);

const perSec = (n, ms) => (n * 1000) / ms;
const fmt = (x) => x.toFixed(x < 10 ? 2 : 0);

/** One unit of work: virDomainLookupByName + virDomainGetXMLDesc. */
async function fetchXml(conn, name) {
  const d = await conn.lookupByName(name);
  await d.xml();
  d.free();
}

async function binding(conn, name, n, inFlight) {
  let next = 0;
  const worker = async () => {
    while (next++ < n) await fetchXml(conn, name);
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return perSec(n, performance.now() - t);
}

function virsh(uri, name) {
  const t = performance.now();
  for (let i = 0; i < VIRSH_N; i++) execFileSync('virsh', ['-c', uri, 'dumpxml', name], { stdio: 'pipe' });
  return perSec(VIRSH_N, performance.now() - t);
}

function python(uri, name, n) {
  const code = `
import libvirt, time
c = libvirt.open('${uri}')
for _ in range(200): c.lookupByName('${name}').XMLDesc(0)
t = time.perf_counter()
for _ in range(${n}): c.lookupByName('${name}').XMLDesc(0)
print(${n} / (time.perf_counter() - t))`;
  // Debian's python3-libvirt is installed for the system interpreter.
  return Number(execFileSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8' }));
}

async function compare(uri, name, n) {
  const conn = await open(uri);
  await binding(conn, name, Math.min(n, 2000), 1); // warm-up
  const seq = await binding(conn, name, n, 1);
  const conc = await binding(conn, name, n, 16);
  const py = python(uri, name, n);
  const vs = virsh(uri, name);
  await conn.close();
  console.log(`\n${uri}: lookupByName + XMLDesc per second (N=${n}, virsh N=${VIRSH_N})`);
  console.log(`  binding, await each call        ${fmt(seq)}/s   ${fmt(1e6 / seq)} µs per lookup+XML`);
  console.log(`  binding, 16 in flight           ${fmt(conc)}/s   ${fmt(1e6 / conc)} µs`);
  console.log(`  python3-libvirt, sequential     ${fmt(py)}/s   ${fmt(1e6 / py)} µs`);
  console.log(`  virsh dumpxml, one process each ${fmt(vs)}/s   ${fmt(1e6 / vs)} µs`);
  console.log(`  binding / virsh:  ${fmt(seq / vs)}x awaiting each, ${fmt(conc / vs)}x in flight`);
  console.log(
    `  time per call vs python: ${(py / seq).toFixed(2)}x awaiting each, ${(py / conc).toFixed(2)}x in flight`,
  );
}

/** Max/p99 event-loop delay while `work` runs; the histogram needs a turn before and after. */
async function delayDuring(work) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await sleep(20);
  const t = performance.now();
  await work();
  const ms = performance.now() - t;
  await sleep(20);
  h.disable();
  return { ms, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
}

async function loopDelay() {
  const conn = await open('test:///default');
  await binding(conn, 'test', 500, 16);
  const idle = await delayDuring(() => sleep(100));
  const calls = await delayDuring(() =>
    Promise.all(Array.from({ length: 100 }, () => fetchXml(conn, 'test'))),
  );
  const sync = await delayDuring(async () =>
    spawnSync('virsh', ['-c', 'test:///default', 'dumpxml', 'test']),
  );
  await conn.close();
  const row = (label, r) =>
    console.log(
      `  ${label.padEnd(44)} took ${r.ms.toFixed(1)} ms; delay p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(2)} ms`,
    );
  console.log('\nevent-loop delay (monitorEventLoopDelay, 1 ms resolution)');
  row('idle 100 ms (noise floor)', idle);
  row('100 concurrent binding lookup+XML calls', calls);
  row('one synchronous virsh spawn (blocking)', sync);
}

console.log(
  `load average: ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
await compare('test:///default', 'test', N);
if (process.env.QEMU !== '0') {
  // A defined, never started domain: the cost is the RPC round trip, not the guest.
  const name = `agentfleet-bench-${process.pid}`;
  const sys = await open('qemu:///system');
  const dom = await sys.defineXML(
    `<domain type='qemu'><name>${name}</name><memory unit='MiB'>32</memory><os><type arch='x86_64'>hvm</type></os></domain>`,
  );
  try {
    await compare('qemu:///system', name, Math.ceil(N / 4));
  } finally {
    await dom.undefine();
    dom.free();
    await sys.close();
  }
}
await loopDelay();
