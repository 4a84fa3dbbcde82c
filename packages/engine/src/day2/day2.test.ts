import { mkdtempSync, rmSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentShell, OutputStream } from '@agentfleet/core';
import { FakeGuestNetworks, fleetRun } from '@agentfleet/testing/engine-deps';
import { FakeHypervisor } from '@agentfleet/testing/fake-hypervisor';
import { fleetOf } from '@agentfleet/testing/fleets';
import { describe, expect, it } from 'vitest';
import { silentLog } from '../log.js';
import { serialPtyPath } from './console.js';
import { execOnAgents, execSucceeded, lineSplitter } from './exec.js';
import { followFile } from './follow.js';
import { agentJournal } from './journal.js';
import { requireRunning } from './power.js';
import { restartAgents } from './restart.js';
import { selectAgents } from './select.js';
import type { AgentShells } from './shells.js';

// The day-2 workflows on fakes: the e2e suite (test/e2e/day2.e2e.test.ts) runs them on real VMs.

const yaml = (extra = '') => `memory: 256MiB\nvcpus: 1\ngit: { email: x@example.org }\n${extra}`;

/** An agent's shell that answers each command through `answer`, chunked awkwardly, and counts sessions. */
function fakeShells(
  answer: (agent: string, command: string) => { out?: string; code?: number; fail?: string },
  pinned: Record<string, string | undefined> = {},
): AgentShells & { inFlight: number; maxInFlight: number } {
  const shells = {
    inFlight: 0,
    maxInFlight: 0,
    pinnedKey: async (agent: string) => (agent in pinned ? pinned[agent] : `ssh-ed25519 AAAA${agent}`),
    connector: {
      connect: async (agent: string, opts?: { pinnedHostKey?: string }): Promise<AgentShell> => {
        if (opts?.pinnedHostKey !== `ssh-ed25519 AAAA${agent}`) throw new Error('not the pinned key');
        shells.inFlight++;
        shells.maxInFlight = Math.max(shells.maxInFlight, shells.inFlight);
        return {
          hostKey: { type: 'ssh-ed25519', wire: Buffer.alloc(0) } as unknown as AgentShell['hostKey'],
          exec: async (command: string, onOutput?: (c: string, s: OutputStream) => void) => {
            await new Promise((r) => setTimeout(r, 5));
            const a = answer(agent, command);
            if (a.fail) throw new Error(a.fail);
            const out = a.out ?? '';
            // Split mid-line, as SSH channel data arrives.
            for (let i = 0; i < out.length; i += 3) onOutput?.(out.slice(i, i + 3), 'stdout');
            return a.code ?? 0;
          },
          upload: async () => {},
          close: async () => {
            shells.inFlight--;
          },
        };
      },
    },
  };
  return shells;
}

describe('selectAgents', () => {
  const fleet = fleetOf({ a: 'tags: [web]', b: 'tags: [web, ci]', c: '' });
  it('selects by name, all, or tag, in fleet order', () => {
    expect(selectAgents(fleet, { names: ['c', 'a', 'c'] })).toEqual(['c', 'a']);
    expect(selectAgents(fleet, { names: [], all: true })).toEqual(['a', 'b', 'c']);
    expect(selectAgents(fleet, { names: [], tag: 'web' })).toEqual(['a', 'b']);
  });
  it('refuses no selection, two at once, an unknown agent and an unused tag, naming what exists', () => {
    expect(() => selectAgents(fleet, { names: [] })).toThrow(/exactly one/);
    expect(() => selectAgents(fleet, { names: ['a'], all: true })).toThrow(/exactly one/);
    expect(() => selectAgents(fleet, { names: ['zz'] })).toThrow("no agent named 'zz' (agents: a, b, c)");
    expect(() => selectAgents(fleet, { names: [], tag: 'db' })).toThrow(
      /no agent has the tag 'db' \(tags in use: ci, web/,
    );
  });
});

describe('lineSplitter', () => {
  it('emits whole lines per stream, CRLF trimmed, the rest on flush', () => {
    const got: string[] = [];
    const s = lineSplitter((line, stream) => got.push(`${stream}:${line}`));
    s.push('ab', 'stdout');
    s.push('c\r\nd', 'stdout');
    s.push('err\n', 'stderr');
    s.push('e\nf', 'stdout');
    s.flush();
    expect(got).toEqual(['stdout:abc', 'stderr:err', 'stdout:de', 'stdout:f']);
  });
});

describe('execOnAgents', () => {
  it('runs on every agent with bounded concurrency, lines per agent, each exit code, and a failure', async () => {
    const shells = fakeShells((agent) => ({
      out: `hello from ${agent}\nbye\n`,
      code: agent === 'b' ? 3 : 0,
    }));
    const lines: string[] = [];
    const outcomes = await execOnAgents(['a', 'b', 'c', 'd'], 'uptime', shells, {
      concurrency: 2,
      onLine: (agent, line) => lines.push(`${agent}|${line}`),
    });
    expect(outcomes).toEqual([
      { agent: 'a', code: 0 },
      { agent: 'b', code: 3 },
      { agent: 'c', code: 0 },
      { agent: 'd', code: 0 },
    ]);
    expect(execSucceeded(outcomes)).toBe(false);
    expect(shells.maxInFlight).toBe(2);
    expect(lines.filter((l) => l.startsWith('b|'))).toEqual(['b|hello from b', 'b|bye']);
  });

  it('reports an agent it cannot reach (stopped, never pinned) without stopping the others', async () => {
    const shells = fakeShells(() => ({ out: 'ok\n' }), { never: undefined });
    const outcomes = await execOnAgents(['a', 'never', 'down'], 'true', shells, {
      concurrency: 4,
      onLine: () => {},
      requireRunning: async (agent) => {
        if (agent === 'down') throw new Error('agent down is shut off; run `fleet up down`');
      },
    });
    expect(outcomes[0]).toEqual({ agent: 'a', code: 0 });
    expect(outcomes[1]?.error).toMatch(/never has never answered SSH/);
    expect(outcomes[2]?.error).toBe('agent down is shut off; run `fleet up down`');
    expect(execSucceeded([{ agent: 'a', code: 0 }])).toBe(true);
  });
});

/** A fake whose guest may ignore ACPI; its boot id changes with every reboot and every start. */
class BootingHypervisor extends FakeHypervisor {
  starts = 0;
  ignoresAcpi = false;
  override async start(name: string) {
    await super.start(name);
    this.starts++;
  }
  override async reboot(name: string) {
    if (!this.ignoresAcpi) await super.reboot(name);
  }
  bootId(domain: string) {
    return `${this.rebootsOf(domain)}-${this.starts}`;
  }
}

async function restartWorld(ignoresAcpi = false) {
  const run = fleetRun({ a: yaml('network: isolated\n'), b: yaml() });
  const hv = new BootingHypervisor('qemu:///session');
  hv.ignoresAcpi = ignoresAcpi;
  for (const n of ['a', 'b']) {
    await hv.define(`<domain><name>agent-${n}</name></domain>`);
  }
  await hv.start('agent-a');
  const shells = fakeShells((agent, command) =>
    command.includes('boot_id') ? { out: `${hv.bootId(`agent-${agent}`)}\n` } : { code: 0 },
  );
  const networks = new FakeGuestNetworks();
  const notes: string[] = [];
  const deps = {
    connect: async () => hv,
    networks,
    shells,
    log: silentLog,
    note: (agent: string, m: string) => notes.push(`${agent}: ${m}`),
  };
  return { run, hv, deps, networks, notes };
}

describe('restartAgents', () => {
  it('reboots through ACPI (the domain stays running) and proves a new boot id', async () => {
    const w = await restartWorld();
    const [o] = await restartAgents(w.run, ['a'], w.deps, { concurrency: 1, pollMs: 1 });
    expect(o).toEqual({ agent: 'a', ok: true, forced: false, bootId: '1-1' });
    expect(w.hv.rebootsOf('agent-a')).toBe(1);
    expect(w.hv.starts).toBe(1);
    expect(w.notes).toContain('a: ACPI reboot requested');
  });

  it('powers off and starts a guest that ignores the ACPI request, with its passt ensured', async () => {
    const w = await restartWorld(true);
    const [o] = await restartAgents(w.run, ['a'], w.deps, {
      concurrency: 1,
      pollMs: 1,
      shutdownSeconds: 0.05,
    });
    expect(o).toMatchObject({ agent: 'a', ok: true, forced: true, bootId: '0-2' });
    expect(w.networks.started).toBe(1);
    expect(w.notes).toContain('a: ACPI reboot timed out: powering off and starting');
  });

  it('refuses a shut-off agent with the remedy, and goes on with the others', async () => {
    const w = await restartWorld();
    const out = await restartAgents(w.run, ['b', 'a'], w.deps, { concurrency: 2, pollMs: 1 });
    expect(out[0]).toEqual({ agent: 'b', ok: false, error: 'agent b is shut off; run `fleet up b`' });
    expect(out[1]?.ok).toBe(true);
    await expect(requireRunning(w.run, w.deps.connect, 'b')).rejects.toThrow('is shut off');
  });
});

describe('agentJournal', () => {
  it('says plainly that a guest without journalctl has no journal', async () => {
    const shells = fakeShells((_a, command) =>
      command.startsWith('command -v') ? { code: 1 } : { out: 'x' },
    );
    await expect(agentJournal('a', shells, { onOutput: () => {} })).rejects.toThrow(
      'agent a has no journalctl (not a systemd guest)',
    );
  });
  it('streams journalctl -b of the current boot', async () => {
    const seen: string[] = [];
    const shells = fakeShells((_a, command) => {
      seen.push(command);
      return { out: command.startsWith('journalctl') ? 'boot line\n' : '' };
    });
    let out = '';
    expect(await agentJournal('a', shells, { lines: 5, onOutput: (c) => (out += c) })).toBe(0);
    expect(seen[1]).toBe('journalctl -b --no-pager -n 5');
    expect(out).toBe('boot line\n');
  });
});

describe('serialPtyPath', () => {
  it("reads the serial's pty from the live XML, and nothing from a file serial", () => {
    const live = `<domain><devices><serial type='pty'><source path='/dev/pts/7'/><log file='/s/c.log' append='on'/><target port='0'/></serial><console type='pty' tty='/dev/pts/7'><source path='/dev/pts/7'/></console></devices></domain>`;
    expect(serialPtyPath(live)).toBe('/dev/pts/7');
    expect(
      serialPtyPath(
        `<domain><devices><serial type='file'><source path='/s/c.log'/></serial></devices></domain>`,
      ),
    ).toBeUndefined();
  });
});

describe('followFile', () => {
  it('prints only what is appended after the start offset, until aborted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'day2a-follow-'));
    try {
      const path = join(dir, 'console.log');
      await writeFile(path, 'old line\n');
      let got = '';
      const ac = new AbortController();
      const done = followFile(path, 9, (t) => (got += t), ac.signal, 5);
      await appendFile(path, 'new ');
      await appendFile(path, 'line ü\n');
      // A bound on a hang (1 s was tight for a machine under load): the loop ends as soon as the line is in.
      const deadline = Date.now() + 20_000;
      while (!got.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      ac.abort();
      await done;
      expect(got).toBe('new line ü\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
