// One behavioural contract for every Hypervisor: the in-memory fake, libvirt's test driver and a
// real libvirtd with QEMU all have to pass it, so engine tests on the fake mean something.
import { type Hypervisor, HypervisorError, type HypervisorErrorKind } from '@agentfleet/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

export interface ContractTarget {
  /** Opens a fresh connection. */
  open(): Promise<Hypervisor>;
  /** A minimal bootable-enough domain definition for this driver. */
  domainXml(name: string, opts: { description: string; uuid?: string }): string;
}

async function expectKind(p: Promise<unknown>, kind: HypervisorErrorKind): Promise<HypervisorError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a HypervisorError of kind ${kind}`).toBeInstanceOf(HypervisorError);
  expect((err as HypervisorError).kind).toBe(kind);
  return err as HypervisorError;
}

export function hypervisorContract(label: string, target: ContractTarget): void {
  describe(`Hypervisor contract: ${label}`, () => {
    let hv: Hypervisor;
    const created = new Set<string>();
    // Unique per run so a shared daemon never sees collisions between runs or suites.
    const prefix = `agentfleet-ct${process.pid.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    const name = (s: string) => {
      const n = `${prefix}-${s}`;
      created.add(n);
      return n;
    };
    const xml = (n: string, description = 'v1', uuid?: string) =>
      target.domainXml(n, uuid ? { description, uuid } : { description });
    const stateOf = async (n: string) => (await hv.listDomains()).find((d) => d.name === n)?.state;

    beforeAll(async () => {
      hv = await target.open();
    });
    afterAll(async () => {
      for (const n of created) {
        await hv.destroy(n).catch(() => {});
        await hv.undefine(n).catch(() => {});
      }
      await hv.close();
    });

    it('reports host facts', async () => {
      const f = await hv.facts();
      expect(f.uri).toBe(hv.uri);
      expect(f.hostname.length).toBeGreaterThan(0);
      expect(f.libVersion).toMatch(/^\d+\.\d+\.\d+$/);
      expect(f.cpus).toBeGreaterThan(0);
      expect(typeof f.kvmUsable).toBe('boolean');
      expect(typeof f.passtSupported).toBe('boolean');
    });

    it('treats an unknown domain as absent or as no-such-domain', async () => {
      const n = name('missing');
      expect(await hv.domainXml(n)).toBeUndefined();
      await expectKind(hv.start(n), 'no-such-domain');
      await expectKind(hv.shutdown(n), 'no-such-domain');
      await expectKind(hv.destroy(n), 'no-such-domain');
      await expectKind(hv.undefine(n), 'no-such-domain');
    });

    it('defines a shut-off domain with a UUID and returns its XML', async () => {
      const n = name('define');
      await hv.define(xml(n));
      const d = (await hv.listDomains()).find((x) => x.name === n);
      expect(d?.state).toBe('shutoff');
      expect(d?.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const text = await hv.domainXml(n);
      expect(text).toContain(`<name>${n}</name>`);
      expect(text).toContain(d?.uuid);
    });

    it('redefining by name replaces the config and keeps the UUID', async () => {
      const n = name('redefine');
      await hv.define(xml(n, 'first'));
      const before = (await hv.listDomains()).find((x) => x.name === n)?.uuid;
      await hv.define(xml(n, 'second'));
      expect(await hv.domainXml(n)).toContain('second');
      expect((await hv.listDomains()).find((x) => x.name === n)?.uuid).toBe(before);
    });

    it('refuses a same-name definition with another UUID', async () => {
      const n = name('uuidclash');
      await hv.define(xml(n, 'v1', '5b7d4a8e-1c2f-4a3b-9d8e-0123456789ab'));
      await expectKind(hv.define(xml(n, 'v1', '5b7d4a8e-1c2f-4a3b-9d8e-ba9876543210')), 'already-exists');
    });

    it('rejects text that is not XML, and a domain without a name, as invalid-config', async () => {
      await expectKind(hv.define('this is not XML'), 'invalid-config');
      await expectKind(hv.define(xml(name('noname')).replace(/<name>[^<]*<\/name>/, '')), 'invalid-config');
    });

    it('starts once, refuses a second start, destroys once', async () => {
      const n = name('lifecycle');
      await hv.define(xml(n));
      await hv.start(n);
      expect(await stateOf(n)).toBe('running');
      await expectKind(hv.start(n), 'operation-invalid');
      await hv.destroy(n);
      expect(await stateOf(n)).toBe('shutoff');
      await expectKind(hv.destroy(n), 'operation-invalid');
      await expectKind(hv.shutdown(n), 'operation-invalid');
    });

    it('a redefinition of a running domain applies at next boot', async () => {
      const n = name('nextboot');
      await hv.define(xml(n, 'boot-one'));
      await hv.start(n);
      await hv.define(xml(n, 'boot-two'));
      expect(await hv.domainXml(n)).toContain('boot-one');
      expect(await hv.domainXml(n, { inactive: true })).toContain('boot-two');
      await hv.destroy(n);
      expect(await hv.domainXml(n)).toContain('boot-two');
    });

    it('shutdown is accepted for a running domain', async () => {
      const n = name('shutdown');
      await hv.define(xml(n));
      await hv.start(n);
      await hv.shutdown(n);
      await hv.destroy(n).catch(() => {}); // a guest without ACPI support keeps running
      expect(await stateOf(n)).toBe('shutoff');
    });

    it('reboot is accepted for a running domain and refused for a shut-off one; the domain stays up', async () => {
      const n = name('reboot');
      await hv.define(xml(n));
      await expectKind(hv.reboot(n), 'operation-invalid');
      await hv.start(n);
      await hv.reboot(n);
      expect(await stateOf(n)).toBe('running');
      await hv.destroy(n);
    });

    it('autostart is off by default, and set and cleared on a defined domain', async () => {
      const n = name('autostart');
      await expectKind(hv.autostart(n), 'no-such-domain');
      await hv.define(xml(n));
      expect(await hv.autostart(n)).toBe(false);
      await hv.setAutostart(n, true);
      expect(await hv.autostart(n)).toBe(true);
      await hv.setAutostart(n, false);
      expect(await hv.autostart(n)).toBe(false);
    });

    it('undefining a running domain leaves it running until it stops', async () => {
      const n = name('transient');
      await hv.define(xml(n));
      await hv.start(n);
      await hv.undefine(n);
      expect(await stateOf(n)).toBe('running');
      await hv.destroy(n);
      expect(await stateOf(n)).toBeUndefined();
      await expectKind(hv.undefine(n), 'no-such-domain');
    });

    it('handles many calls in flight at once', async () => {
      const names = Array.from({ length: 12 }, (_, i) => name(`many${i}`));
      await Promise.all(names.map((n) => hv.define(xml(n))));
      const xmls = await Promise.all(
        names.flatMap((n) => [hv.domainXml(n), hv.domainXml(n, { inactive: true })]),
      );
      expect(xmls.every((x) => x?.includes(prefix))).toBe(true);
      const listed = new Set((await hv.listDomains()).map((d) => d.name));
      expect(names.every((n) => listed.has(n))).toBe(true);
      await Promise.all(names.map((n) => hv.undefine(n)));
      const after = new Set((await hv.listDomains()).map((d) => d.name));
      expect(names.some((n) => after.has(n))).toBe(false);
    });

    it('fails clearly after close, and closing twice is safe', async () => {
      const other = await target.open();
      await other.close();
      await other.close();
      await expectKind(other.listDomains(), 'closed');
      await expectKind(other.domainXml(name('closed')), 'closed');
    });
  });
}
