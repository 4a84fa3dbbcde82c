// Handle lifetimes: no handle left behind by many open/close and lookup cycles, and clean process exit
// with handles left open (the environment cleanup hook frees them and stops the loop thread).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testDriverDomainXml } from '@agentfleet/testing/test-domains';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const node = (code: string) =>
  execFileSync(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8',
    stdio: 'pipe',
    timeout: 60_000,
  });

/**
 * Handles the binding holds open after 1,000 cycles, in a fresh process so no other test's
 * handles count. `keep` holds every handle instead of releasing it: the control that shows the
 * count sees a leak of one handle per cycle.
 */
function liveAfterCycles(
  kind: 'connections' | 'lookups',
  keep: boolean,
): { connections: number; domains: number } {
  const code = `
    import { liveHandleCounts, open } from ${JSON.stringify(dist)};
    const kept = [];
    const shared = await open('test:///default');
    const cycle = ${
      kind === 'connections'
        ? `async () => {
            const c = await open('test:///default');
            const d = await c.lookupByName('test');
            d.free();
            if (${keep}) kept.push(c); else await c.close();
          }`
        : `async () => {
            const d = await shared.lookupByName('test');
            await d.xml();
            if (${keep}) kept.push(d); else d.free();
          }`
    };
    for (let i = 0; i < 1000; i++) await cycle();
    console.log(JSON.stringify(liveHandleCounts()));
    process.exit(0);`;
  return JSON.parse(node(code));
}

describe('handle lifetimes', () => {
  it('holds no handle after 1,000 open/lookup/close cycles', () => {
    // `shared` is the one connection left open.
    expect(liveAfterCycles('connections', false)).toEqual({ connections: 1, domains: 0 });
    expect(liveAfterCycles('connections', true)).toEqual({ connections: 1001, domains: 0 });
  });

  it('holds no handle after 1,000 lookup + XML cycles on one connection', () => {
    expect(liveAfterCycles('lookups', false)).toEqual({ connections: 1, domains: 0 });
    expect(liveAfterCycles('lookups', true)).toEqual({ connections: 1, domains: 1000 });
  });

  it('exits cleanly when the process ends with connections, domains and calls still open', () => {
    const script = `
      import { open } from ${JSON.stringify(dist)};
      const c = await open('test:///default');
      const d = await c.lookupByName('test');
      await c.onLifecycle(() => {});
      for (let i = 0; i < 20; i++) c.listAllDomains();
      console.log(d.name);
      process.exit(0);`;
    const natural = `
      import { open } from ${JSON.stringify(dist)};
      const c = await open('test:///default');
      const d = await c.lookupByName('test');
      console.log(d.uuid.length);`;
    expect(node(script).trim()).toBe('test');
    expect(node(natural).trim()).toBe('36');
  });

  it('survives worker threads ending with open connections, subscriptions and calls in flight', () => {
    const worker = `
      const { open } = await import(${JSON.stringify(dist)});
      const { parentPort } = await import('node:worker_threads');
      const c = await open('test:///default');
      await c.onLifecycle(() => {});
      await c.defineXML(${JSON.stringify(testDriverDomainXml('W'))}.replace('W', 'w' + Math.random()));
      for (let i = 0; i < 20; i++) c.listAllDomains();
      parentPort.postMessage('ready');`;
    const main = `
      import { Worker } from 'node:worker_threads';
      import { eventLoopRunning, open } from ${JSON.stringify(dist)};
      const mine = await open('test:///default');
      for (let i = 0; i < 4; i++) {
        const w = new Worker(${JSON.stringify(worker)}, { eval: true, type: 'module' });
        await new Promise((ok, fail) => { w.once('message', ok); w.once('error', fail); });
        await w.terminate();
      }
      console.log(eventLoopRunning(), (await mine.listAllDomains()).length);
      await mine.close();`;
    // The shared test driver (kept alive by \`mine\`) holds the four workers' domains.
    expect(node(main).trim()).toBe('true 5');
  });

  it('close() releases the connection held by event subscriptions', () => {
    // test:///default is one driver per process, reset when its last connection is gone; a
    // subscription left registered in libvirt would keep it (and x) alive.
    const code = `
      import { open } from ${JSON.stringify(dist)};
      const a = await open('test:///default');
      await a.onLifecycle(() => {});
      (await a.defineXML(${JSON.stringify(testDriverDomainXml('x'))})).free();
      await a.close();
      const b = await open('test:///default');
      console.log((await b.listAllDomains()).map((d) => d.name).join(','));
      await b.close();`;
    expect(node(code).trim()).toBe('test');
  });

  it('reports an exception thrown by an event listener as uncaught, without aborting', () => {
    const code = `
      import { open } from ${JSON.stringify(dist)};
      process.on('uncaughtException', (err) => { console.log('caught', err.message); process.exit(0); });
      const c = await open('test:///default');
      await c.onLifecycle(() => { throw new Error('listener failed'); });
      await c.defineXML(${JSON.stringify(testDriverDomainXml('y'))});`;
    expect(node(code).trim()).toBe('caught listener failed');
  });
});
