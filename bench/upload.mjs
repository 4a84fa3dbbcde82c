// Base image transfer into a libvirt volume, side by side in one run (interleaved rounds, medians):
// the binding's virStorageVolUpload through a virStream, `virsh vol-upload` (libvirt's own client),
// and a plain local `cp --sparse=always` (what a local disk copy costs, no libvirt at all).
// Usage: npm run build && node bench/upload.mjs [image] [rounds]   (root, libvirtd up)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '../packages/libvirt/dist/index.js';

const image = process.argv[2] ?? '.cache/testvm/base.qcow2';
const rounds = Number(process.argv[3] ?? 7);
const size = statSync(image).size;
const dir = mkdtempSync(join(tmpdir(), 'storage-bench-'));
const pool = `st-bench-${process.pid}`;
const conn = await open('qemu:///system');
const s = conn.storage;
await s.definePool(
  `<pool type='dir'><name>${pool}</name><target><path>${join(dir, 'pool')}</path></target></pool>`,
);
await s.buildPool(pool);
await s.startPool(pool);
const vol = (name) =>
  `<volume><name>${name}</name><capacity unit='bytes'>${size}</capacity><target><format type='raw'/></target></volume>`;
const cases = {
  'binding upload': async (i) => {
    await s.createVolume(pool, vol(`b${i}`));
    await s.upload(pool, `b${i}`, image, size);
  },
  'virsh vol-upload': async (i) => {
    await s.createVolume(pool, vol(`v${i}`));
    execFileSync('virsh', ['-q', 'vol-upload', '--pool', pool, `v${i}`, image]);
  },
  'cp --sparse=always': async (i) => {
    execFileSync('cp', ['--sparse=always', image, join(dir, `c${i}`)]);
  },
};
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
try {
  for (let i = 0; i < rounds; i++) {
    for (const [name, run] of Object.entries(cases)) {
      const t = process.hrtime.bigint();
      await run(i);
      times[name].push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
} finally {
  for (const v of await s.listVolumes(pool)) await s.deleteVolume(pool, v);
  await s.stopPool(pool);
  await s.undefinePool(pool);
  await conn.close();
  rmSync(dir, { recursive: true, force: true });
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const base = median(times['virsh vol-upload']);
console.log(
  `image ${image}, ${(size / 2 ** 20).toFixed(1)} MiB, ${rounds} rounds, load ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ')[0]}`,
);
console.log('| case | median | MiB/s | vs virsh vol-upload |');
console.log('| --- | --- | --- | --- |');
for (const [name, t] of Object.entries(times)) {
  const m = median(t);
  console.log(
    `| ${name} | ${m.toFixed(0)} ms | ${(size / 2 ** 20 / (m / 1000)).toFixed(0)} | ${(m / base).toFixed(2)}x |`,
  );
}
