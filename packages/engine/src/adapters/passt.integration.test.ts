// The real passt (Debian's package) behind the GuestNetworks port the engine tests fake.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portBlock } from '@agentfleet/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { PasstNetworks, passtPids } from './passt.js';

const root = mkdtempSync(join(tmpdir(), 'isonet-passt-'));
// A block of this process's own, below the ephemeral range (30100-30502 overlapped isolation.e2e's 30500-30999).
const portBase = portBlock();
const listens = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

afterAll(async () => {
  const passt = new PasstNetworks();
  for (const agent of ['a', 'b', 'c']) await passt.stop(join(root, 'run', `agent-${agent}`, 'passt.sock'));
  rmSync(root, { recursive: true, force: true });
});

describe('PasstNetworks (real passt)', () => {
  it('starts one passt per socket in a 0700 directory, forwarding 127.0.0.1:<sshPort>; ensure is idempotent', async () => {
    const passt = new PasstNetworks();
    const socketPath = join(root, 'run', 'agent-a', 'passt.sock');
    await passt.ensure({ agent: 'a', uri: 'qemu:///system', socketPath, sshPort: portBase });
    expect(statSync(socketPath).isSocket()).toBe(true);
    expect(statSync(join(root, 'run', 'agent-a')).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, 'run')).mode & 0o777).toBe(0o700);
    expect(await listens(portBase)).toBe(true);
    const pids = passtPids(socketPath);
    expect(pids).toHaveLength(1);
    const argv = execFileSync('ps', ['-o', 'args=', '-p', String(pids[0])], { encoding: 'utf8' });
    expect(argv).toContain('--no-map-gw');
    expect(argv).toContain(`127.0.0.1/${portBase}:22`);
    await passt.ensure({ agent: 'a', uri: 'qemu:///system', socketPath, sshPort: portBase });
    expect(passtPids(socketPath)).toEqual(pids);
  });

  it('a passt started by an earlier (killed) fleet is found by its socket path and stopped', async () => {
    const socketPath = join(root, 'run', 'agent-b', 'passt.sock');
    await new PasstNetworks().ensure({
      agent: 'b',
      uri: 'qemu:///system',
      socketPath,
      sshPort: portBase + 1,
    });
    const later = new PasstNetworks();
    expect(await later.isRunning(socketPath)).toBe(true);
    await later.stop(socketPath);
    expect(await later.isRunning(socketPath)).toBe(false);
    expect(await listens(portBase + 1)).toBe(false);
    expect(() => statSync(socketPath)).toThrow();
    // The other agent's passt is untouched.
    expect(await later.isRunning(join(root, 'run', 'agent-a', 'passt.sock'))).toBe(true);
  });

  it('a passt that cannot start is reported with what it said, and leaves nothing running', async () => {
    const socketPath = join(root, 'run', 'agent-c', 'passt.sock');
    const passt = new PasstNetworks();
    // Another agent's port: passt cannot bind the forward.
    await expect(
      passt.ensure({ agent: 'c', uri: 'qemu:///system', socketPath, sshPort: portBase }),
    ).rejects.toThrow(/passt for agent c/);
    expect(passtPids(socketPath)).toEqual([]);
    await expect(
      new PasstNetworks({ binary: '/nonexistent/passt' }).ensure({
        agent: 'c',
        uri: 'qemu:///system',
        socketPath,
        sshPort: portBase + 2,
      }),
    ).rejects.toThrow(/cannot run \/nonexistent\/passt.*install the passt package/);
  });
});
