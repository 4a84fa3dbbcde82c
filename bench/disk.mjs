// bench/disk.mjs -- agent disk creation from a 2 GiB base (qcow2, sparse: 2 GiB apparent, 512 MiB
// of data): fleet's overlay mode, fleet's sparse-aware copy mode, and `cp --sparse=always`, side by
// side in one run (interleaved, warm page cache). Run after `npm run build`: node bench/disk.mjs [RUNS]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalDisks } from '../packages/engine/dist/index.js';

const RUNS = Number(process.argv[2] ?? 5);
const GiB = 1024 ** 3;
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'fleet-bench-disk-'));
const base = join(dir, 'base.qcow2');
// preallocation=metadata: the file is 2 GiB long but only metadata is allocated; then 8 data
// regions of 64 MiB spread over it, like an installed system with free space between.
execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', base, '2G']);
for (let i = 0; i < 8; i++) {
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', `write -P ${0x11 + i} ${i * 256}M 64M`, base], {
    stdio: 'ignore',
  });
}
const st = statSync(base);
const disks = new LocalDisks();
let n = 0;
const target = () => join(dir, `disk-${n++}.qcow2`);

const cases = {
  'fleet overlay': async (t) => disks.create({ path: t, base, mode: 'overlay' }, () => {}),
  'fleet copy': async (t) => disks.create({ path: t, base, mode: 'copy' }, () => {}),
  'cp --sparse=always': async (t) => execFileSync('cp', ['--sparse=always', base, t]),
  // fleet fsyncs before publishing the disk (crash safety); the same durability for cp:
  'cp --sparse + sync': async (t) => {
    execFileSync('cp', ['--sparse=always', base, t]);
    execFileSync('sync', [t]);
  },
};
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < RUNS; r++) {
  for (const [k, fn] of Object.entries(cases)) {
    const t = target();
    const t0 = process.hrtime.bigint();
    await fn(t);
    times[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
    // Same bytes as the base (qemu-img compare reads guest-visible content).
    if (k === 'fleet copy' && r === 0) execFileSync('qemu-img', ['compare', '-q', base, t]);
    rmSync(t);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `base: ${(st.size / GiB).toFixed(2)} GiB apparent, ${((st.blocks * 512) / GiB).toFixed(2)} GiB allocated; ${RUNS} runs each`,
);
for (const [k, xs] of Object.entries(times)) {
  const m = median(xs);
  const rate =
    k === 'fleet overlay' ? '' : `  ${(st.size / GiB / (m / 1000)).toFixed(2)} GiB/s (apparent size / time)`;
  console.log(
    `  ${k.padEnd(20)} median ${m.toFixed(1).padStart(8)} ms  (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})${rate}`,
  );
}
const ratio = (k) => (median(times[k]) / median(times['fleet copy'])).toFixed(2);
console.log(
  `  fleet copy throughput vs cp --sparse=always: ${ratio('cp --sparse=always')}x, vs cp + sync: ${ratio('cp --sparse + sync')}x (goal >= 0.9x); overlay: milliseconds`,
);
console.log(`  load average: ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim()}`);
rmSync(dir, { recursive: true, force: true });
