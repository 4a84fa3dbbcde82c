// The Hypervisor contract and the binding's daemon-only behaviour on a real libvirtd + QEMU
// (TCG). Domains are uniquely named and removed afterwards.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLibvirtd, testPort } from '@agentfleet/testing';
import { hypervisorContract } from '@agentfleet/testing/hypervisor-contract';
import { qemuTcgDomainXml } from '@agentfleet/testing/test-domains';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Connection, type LifecycleEvent, liveHandleCounts, open } from './connection.js';
import { LifecycleEventType } from './constants.js';
import { ConnectionLostError } from './errors.js';
import { LibvirtHypervisor } from './hypervisor.js';

const URI = 'qemu:///system';

beforeAll(() => ensureLibvirtd(URI));

hypervisorContract('LibvirtHypervisor on qemu:///system (TCG)', {
  open: () => LibvirtHypervisor.connect(URI),
  domainXml: qemuTcgDomainXml,
});

describe('binding on qemu:///system', () => {
  let conn: Connection;
  const name = `agentfleet-it${process.pid.toString(36)}${Date.now().toString(36)}`;

  beforeAll(async () => {
    conn = await open(URI);
  });
  afterAll(async () => {
    const dom = await conn.lookupByName(name).catch(() => undefined);
    await dom?.destroy().catch(() => {});
    await dom?.undefine().catch(() => {});
    await conn.close();
  });

  it('delivers lifecycle events from the event-loop thread', async () => {
    const seen: LifecycleEvent[] = [];
    let wake = () => {};
    const sub = await conn.onLifecycle((ev) => {
      if (ev.domain === name) seen.push(ev);
      wake();
    });
    const until = async (type: LifecycleEventType) => {
      while (!seen.some((e) => e.event === type)) await new Promise<void>((r) => (wake = r));
    };
    const dom = await conn.defineXML(qemuTcgDomainXml(name));
    await until(LifecycleEventType.Defined);
    await dom.start();
    await until(LifecycleEventType.Started);
    await dom.destroy();
    await until(LifecycleEventType.Stopped);
    await dom.undefine();
    await until(LifecycleEventType.Undefined);
    await sub.close();
    await sub.close();
    // QEMU also reports resumed/shutdown around these; the four milestones come in this order.
    const milestones = [
      LifecycleEventType.Defined,
      LifecycleEventType.Started,
      LifecycleEventType.Stopped,
      LifecycleEventType.Undefined,
    ];
    expect(seen.map((e) => e.event).filter((t) => milestones.includes(t))).toEqual([
      LifecycleEventType.Defined,
      LifecycleEventType.Started,
      LifecycleEventType.Stopped,
      LifecycleEventType.Undefined,
    ]);
    expect(seen.every((e) => e.uuid === dom.uuid)).toBe(true);
    dom.free();
  });

  it('runs QMP and HMP monitor commands on a running domain', async () => {
    const dom = await conn.createXML(qemuTcgDomainXml(`${name}-mon`));
    try {
      const qmp = JSON.parse(await dom.qemuMonitorCommand('{"execute":"query-status"}'));
      expect(qmp.return.status).toBe('running');
      expect(await dom.qemuMonitorCommand('info status', { hmp: true })).toMatch(/VM status: running/);
    } finally {
      await dom.destroy();
      dom.free();
    }
  });

  it('adds a host port forward at runtime through the monitor (the hostfwd fallback)', async () => {
    const xml = qemuTcgDomainXml(`${name}-fwd`)
      .replace(
        "<domain type='qemu'>",
        "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>",
      )
      .replace(
        '</domain>',
        `<qemu:commandline><qemu:arg value='-netdev'/><qemu:arg value='user,id=net0'/>
          <qemu:arg value='-device'/><qemu:arg value='virtio-net-pci,netdev=net0'/></qemu:commandline></domain>`,
      );
    const dom = await conn.createXML(xml);
    try {
      // Of this process's reserved block: a kernel-chosen free port could be bound by another process first.
      const port = testPort();
      expect(await dom.qemuMonitorCommand(`hostfwd_add net0 tcp:127.0.0.1:${port}-:22`, { hmp: true })).toBe(
        '',
      );
      expect(await dom.qemuMonitorCommand('info usernet', { hmp: true })).toMatch(
        new RegExp(`HOST_FORWARD.*127\\.0\\.0\\.1\\s+${port}\\s+10\\.0\\.2\\.15\\s+22`),
      );
      // QEMU's user network now accepts on the host side.
      await new Promise<void>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve();
        });
        socket.on('error', reject);
      });
    } finally {
      await dom.destroy();
      dom.free();
    }
  });

  it('reports a running domain paused and resumed', async () => {
    const dom = await conn.createXML(qemuTcgDomainXml(`${name}-pause`));
    try {
      await dom.suspend();
      expect((await dom.state()).state).toBe('paused');
      await dom.resume();
      expect((await dom.state()).state).toBe('running');
    } finally {
      await dom.destroy();
      dom.free();
    }
  });

  it('answers host queries from the daemon', async () => {
    expect(await conn.hypervisorVersion()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await conn.capabilities()).toContain('<capabilities>');
    expect(await conn.domainCapabilities({ virtType: 'qemu', arch: 'x86_64' })).toContain(
      '<domainCapabilities>',
    );
    const node = await conn.nodeInfo();
    expect(node.cpus).toBeGreaterThan(0);
    // Offline CPUs count in the topology but not in cpus.
    expect(node.sockets * node.cores * node.threads * node.nodes).toBeGreaterThanOrEqual(node.cpus);
  });

  it('says passt is unsupported on libvirt 9.0 (it rejects <backend type="passt"/>)', async () => {
    const hv = await LibvirtHypervisor.connect(URI);
    const facts = await hv.facts();
    await hv.close();
    if (facts.libVersion.startsWith('9.0.')) expect(facts.passtSupported).toBe(false);
    // The probes' throwaway domains (named with our pid) are gone again.
    const ours = `-${process.pid}-`;
    expect(
      (await conn.listAllDomains()).some(
        (d) => d.name.startsWith('agentfleet-probe-') && d.name.includes(ours),
      ),
    ).toBe(false);
  });

  it('reports a broken transport as ConnectionLostError', async () => {
    // The ext transport runs a local proxy to the daemon; killing it cuts the connection.
    const dir = mkdtempSync(join(tmpdir(), 'agentfleet-lost-'));
    const helper = join(dir, 'proxy.sh');
    writeFileSync(helper, `#!/bin/sh\necho $$ > ${dir}/pid\nexec virt-ssh-helper test:///default\n`);
    chmodSync(helper, 0o755);
    const remote = await open(`test+ext:///default?command=${helper}`);
    try {
      expect((await remote.listAllDomains()).length).toBeGreaterThan(0);
      process.kill(Number(readFileSync(join(dir, 'pid'), 'utf8')), 'SIGKILL');
      const err = await remote.listAllDomains().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionLostError);
      expect((err as ConnectionLostError).kind).toBe('connection-lost');
      expect(remote.isAlive()).toBe(false);
    } finally {
      await remote.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports why the transport closed, and LibvirtHypervisor reopens a lost connection', async () => {
    // Killing the ext proxy is what a daemon restart looks like from here: EOF on the socket.
    const dir = mkdtempSync(join(tmpdir(), 'agentfleet-reopen-'));
    const helper = join(dir, 'proxy.sh');
    writeFileSync(helper, `#!/bin/sh\necho $$ > ${dir}/pid\nexec virt-ssh-helper test:///default\n`);
    chmodSync(helper, 0o755);
    const before = liveHandleCounts().connections;
    const hv = await LibvirtHypervisor.connect(`test+ext:///default?command=${helper}`);
    try {
      const first = hv.connection;
      expect(first.lostReason).toBeUndefined();
      process.kill(Number(readFileSync(join(dir, 'pid'), 'utf8')), 'SIGKILL');
      // libvirt's close callback, on the binding's event-loop thread, with no call in flight.
      await vi.waitFor(() => expect(first.lostReason).toBe('eof'));
      expect((await hv.listDomains()).map((d) => d.name)).toContain('test');
      expect(hv.connection).not.toBe(first);
      expect(first.closed).toBe(true);
      expect(hv.connection.lostReason).toBeUndefined();
    } finally {
      await hv.close();
      rmSync(dir, { recursive: true, force: true });
    }
    // Neither the lost connection nor its close callback keeps a reference.
    expect(liveHandleCounts().connections).toBe(before);
  });
});
