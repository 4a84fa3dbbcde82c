import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '@agentfleet/engine/adapters/stale-temps';

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it, so parallel workers rarely collide). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

// Fleet port ranges of the e2e suites. Below Linux's ephemeral range (32768-60999): a port in it may be the source
// port of any outgoing connection, or of one in TIME_WAIT, when QEMU or passt binds it, and freePort() hands out
// ports from it. Below isolation.e2e's 30500-30999 too (it keeps its own block).
const POOL_START = 20000;
const POOL_END = 30400;
const BLOCK = 200;
const RESERVATIONS = join(tmpdir(), 'agentfleet-test-ports');
const held: string[] = [];

/**
 * The first port of a block of `size` ports (a multiple of 200) that no other live test process on this machine
 * holds: each block is a file in /tmp/agentfleet-test-ports naming its holder's pid, made exclusively, taken over
 * once that pid is gone, and removed when this process exits. Suites that run in parallel (other workers, other
 * checkouts) never allocate the same ports.
 */
export function portBlock(size = BLOCK): number {
  const blocks = Math.ceil(size / BLOCK);
  const slots = Math.floor((POOL_END - POOL_START) / BLOCK) - blocks + 1;
  mkdirSync(RESERVATIONS, { recursive: true });
  const first = Math.floor(Math.random() * slots);
  for (let i = 0; i < slots; i++) {
    const base = POOL_START + ((first + i) % slots) * BLOCK;
    const files = Array.from({ length: blocks }, (_, k) => join(RESERVATIONS, String(base + k * BLOCK)));
    const taken: string[] = [];
    for (const file of files) {
      if (!reserve(file)) break;
      taken.push(file);
    }
    if (taken.length === files.length) {
      if (held.length === 0)
        process.once('exit', () => {
          for (const f of held) rmSync(f, { force: true });
        });
      held.push(...taken);
      return base;
    }
    for (const f of taken) rmSync(f, { force: true });
  }
  throw new Error(`no free block of ${size} test ports in ${POOL_START}-${POOL_END} (see ${RESERVATIONS})`);
}

let spare: { next: number; end: number } | undefined;

/** A port of this process's own block (portBlock), for a server a test starts: no other test process binds it. */
export function testPort(): number {
  if (!spare || spare.next >= spare.end) {
    const base = portBlock();
    spare = { next: base, end: base + BLOCK };
  }
  return spare.next++;
}

/** Makes the reservation file, or takes it over from a holder that is gone; false while a live process holds it. */
function reserve(file: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: string;
    try {
      holder = readFileSync(file, 'utf8').trim();
    } catch {
      continue; // its holder just let it go
    }
    // A file still empty is being written by its maker right now (or its maker died in between: then it is old).
    const age = Date.now() - (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    if (holder === '' && age < 10_000) return false;
    const pid = Number(holder);
    if (pid === process.pid || (pid > 0 && processAlive(pid))) return false;
    rmSync(file, { force: true });
  }
  return false;
}

/** Resolves once something accepts TCP connections on host:port, polling until the deadline. */
export async function waitForListen(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
