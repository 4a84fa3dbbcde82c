// The binding's own behaviour on libvirt's test driver (no daemon): errors, handle lifetimes,
// concurrency, metadata, snapshots, events.

import { testDriverDomainXml } from '@agentfleet/testing/test-domains';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Connection,
  eventLoopRunning,
  type LifecycleEvent,
  libraryVersion,
  open,
  stopEventLoop,
} from './connection.js';
import { ErrorCode, LifecycleEventType } from './constants.js';
import {
  DomainExistsError,
  HandleClosedError,
  InvalidConfigError,
  type LibvirtError,
  NoSuchDomainError,
  NoSuchSnapshotError,
  OperationDeniedError,
  OperationInvalidError,
} from './errors.js';

const NS = 'https://agentfleet.dev/xmlns/agent/1';
let conn: Connection;

beforeEach(async () => {
  conn = await open('test:///default');
});
afterEach(async () => {
  await conn.close();
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

describe('host queries', () => {
  it('reports versions, hostname, node info and capabilities', async () => {
    expect(libraryVersion()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await conn.libVersion()).toBe(libraryVersion());
    expect(conn.uri).toBe('test:///default');
    expect(conn.isAlive()).toBe(true);
    expect((await conn.hostname()).length).toBeGreaterThan(0);
    const node = await conn.nodeInfo();
    expect(node).toMatchObject({ cpus: 16, nodes: 2, sockets: 2, cores: 2, threads: 2 });
    expect(await conn.capabilities()).toContain('<capabilities>');
  });

  it('lists the predefined domain with its state, and looks it up by name and UUID', async () => {
    const [entry] = await conn.listAllDomains();
    expect(entry).toMatchObject({ name: 'test', state: 'running', persistent: true });
    const byName = await conn.lookupByName('test');
    const byUuid = await conn.lookupByUUID(entry?.uuid ?? '');
    expect(byUuid.name).toBe('test');
    expect(byName.uuid).toBe(entry?.uuid);
    expect(await byName.info()).toMatchObject({ state: 'running', vcpus: 2 });
    expect(await byName.isActive()).toBe(true);
    expect(await byName.isPersistent()).toBe(true);
    expect(await byName.xml()).toContain('<name>test</name>');
  });
});

describe('read-only connections', () => {
  it('reads but refuses writes with OperationDeniedError', async () => {
    const ro = await open('test:///default', { readOnly: true });
    const dom = await ro.lookupByName('test');
    expect(await dom.xml()).toContain('<name>test</name>');
    expect(await rejection(dom.destroy())).toBeInstanceOf(OperationDeniedError);
    expect(await rejection(ro.defineXML(testDriverDomainXml('ro')))).toBeInstanceOf(OperationDeniedError);
    dom.free();
    await ro.close();
  });
});

describe('errors', () => {
  it('rejects an unknown domain with NoSuchDomainError carrying code, function and caller stack', async () => {
    const err = await rejection(conn.lookupByName('no-such-domain'));
    expect(err).toBeInstanceOf(NoSuchDomainError);
    const e = err as NoSuchDomainError;
    expect(e.code).toBe(ErrorCode.NoDomain);
    expect(e.func).toBe('virDomainLookupByName');
    expect(e.kind).toBe('no-such-domain');
    expect(e.message).toMatch(/^virDomainLookupByName: Domain not found/);
    expect(e.stack).toContain('binding.test.ts');
  });

  it('rejects bad XML with InvalidConfigError', async () => {
    const err = await rejection(conn.defineXML('<domain type="test"><name>x</name>'));
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as LibvirtError).code).toBe(ErrorCode.XmlDetail);
  });

  it('rejects a second start and a UUID clash', async () => {
    const dom = await conn.lookupByName('test');
    expect(await rejection(dom.start())).toBeInstanceOf(OperationInvalidError);
    const clash = testDriverDomainXml('test', { uuid: '11111111-2222-4333-8444-555555555555' });
    expect(await rejection(conn.defineXML(clash))).toBeInstanceOf(DomainExistsError);
  });

  it('makes closed connections and freed domains a clear error, and double close/free safe', async () => {
    const other = await open('test:///default');
    const dom = await other.lookupByName('test');
    await other.close();
    await other.close();
    expect(other.closed).toBe(true);
    expect(other.isAlive()).toBe(false);
    for (const p of [other.listAllDomains(), other.lookupByName('test'), dom.info()]) {
      const err = await rejection(p);
      expect(err).toBeInstanceOf(HandleClosedError);
      expect((err as HandleClosedError).message).toMatch(/connection is closed/);
    }
    expect(() => other.uri).toThrow(HandleClosedError);

    const live = await conn.lookupByName('test');
    live.free();
    live.free();
    expect(() => live.name).toThrow(/domain handle is freed/);
    expect(await rejection(live.xml())).toBeInstanceOf(HandleClosedError);
  });

  it('lets calls in flight finish when the connection closes under them', async () => {
    const other = await open('test:///default');
    const inFlight = Array.from({ length: 50 }, () => other.listAllDomains());
    const closing = other.close();
    const settled = await Promise.allSettled(inFlight);
    await closing;
    expect(settled.every((s) => s.status === 'fulfilled' && s.value.length === 1)).toBe(true);
  });
});

describe('domain operations', () => {
  it('defines, suspends, resumes, reboots and undefines', async () => {
    const dom = await conn.defineXML(testDriverDomainXml('ops'), { validate: true });
    expect((await dom.state()).state).toBe('shutoff');
    await dom.start();
    await dom.suspend();
    expect((await dom.info()).state).toBe('paused');
    await dom.resume();
    await dom.reboot();
    expect((await dom.state()).state).toBe('running');
    await dom.destroy();
    await dom.undefine({ snapshotsMetadata: true, managedSave: true });
    expect(await rejection(conn.lookupByName('ops'))).toBeInstanceOf(NoSuchDomainError);
  });

  it('keeps metadata in our namespace, live and in the persistent config', async () => {
    const dom = await conn.lookupByName('test');
    expect(await dom.metadata(NS)).toBeUndefined();
    await dom.setMetadata(NS, 'agent', '<agent name="drago" ledger="3"/>', { live: true, config: true });
    expect(await dom.metadata(NS)).toBe('<agent name="drago" ledger="3"/>');
    expect(await dom.metadata(NS, { config: true })).toContain('drago');
    expect(await dom.xml()).toContain('<agent:agent xmlns:agent="https://agentfleet.dev/xmlns/agent/1"');
    await dom.setMetadata(NS, 'agent', null, { live: true, config: true });
    expect(await dom.metadata(NS)).toBeUndefined();
  });

  it('creates, lists, reverts to and deletes snapshots', async () => {
    const dom = await conn.lookupByName('test');
    expect(await dom.createSnapshot('<domainsnapshot><name>before</name></domainsnapshot>')).toBe('before');
    await dom.destroy();
    expect(await dom.listSnapshots()).toEqual(['before']);
    expect(await dom.snapshotXml('before')).toContain('<name>before</name>');
    await dom.revertToSnapshot('before');
    expect((await dom.state()).state).toBe('running');
    await dom.deleteSnapshot('before');
    expect(await dom.listSnapshots()).toEqual([]);
    const err = await rejection(dom.revertToSnapshot('before'));
    expect(err).toBeInstanceOf(NoSuchSnapshotError);
    expect((err as LibvirtError).func).toBe('virDomainSnapshotLookupByName');
  });
});

describe('concurrency', () => {
  it('answers 500 lookups and XML fetches in flight at once, each correctly', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `par${i}`);
    await Promise.all(names.map((n) => conn.defineXML(testDriverDomainXml(n, { description: `d-${n}` }))));
    const results = await Promise.all(
      Array.from({ length: 500 }, async (_, i) => {
        const n = names[i % names.length] ?? '';
        const dom = await conn.lookupByName(n);
        const xml = await dom.xml();
        dom.free();
        return xml.includes(`<description>d-${n}</description>`);
      }),
    );
    expect(results.every(Boolean)).toBe(true);
  });
});

describe('lifecycle events', () => {
  it('stops the event-loop thread on request (twice is fine) and restarts it on the next open', async () => {
    expect(eventLoopRunning()).toBe(true);
    stopEventLoop();
    stopEventLoop();
    expect(eventLoopRunning()).toBe(false);
    const again = await open('test:///default');
    expect(eventLoopRunning()).toBe(true);
    await again.close();
  });

  it('delivers define/start/stop/undefine and stops after the subscription closes', async () => {
    expect(eventLoopRunning()).toBe(true);
    const seen: LifecycleEvent[] = [];
    let wake = () => {};
    const sub = await conn.onLifecycle((ev) => {
      seen.push(ev);
      wake();
    });
    const until = async (n: number) => {
      while (seen.length < n) await new Promise<void>((r) => (wake = r));
    };
    const dom = await conn.defineXML(testDriverDomainXml('evt'));
    await dom.start();
    await dom.destroy();
    await dom.undefine();
    await until(4);
    expect(seen.map((e) => [e.domain, e.event])).toEqual([
      ['evt', LifecycleEventType.Defined],
      ['evt', LifecycleEventType.Started],
      ['evt', LifecycleEventType.Stopped],
      ['evt', LifecycleEventType.Undefined],
    ]);
    await sub.close();
    // Events after close must not arrive: a later subscription sees the next event alone.
    const after: LifecycleEvent[] = [];
    const probe = await conn.onLifecycle((ev) => {
      after.push(ev);
      wake();
    });
    await conn.defineXML(testDriverDomainXml('evt2'));
    while (after.length < 1) await new Promise<void>((r) => (wake = r));
    // Both subscriptions would have been called in the same libvirt dispatch; give the closed
    // one's queue a turn of the event loop to show it stays silent.
    await new Promise((r) => setImmediate(r));
    await probe.close();
    expect(seen).toHaveLength(4);
    expect(after.map((e) => e.domain)).toEqual(['evt2']);
  });
});
