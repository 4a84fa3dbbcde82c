// Temp files a killed fleet left between writing and renaming (SIGKILL mid-rekey, mid-ledger write): the next
// command that takes the lock removes them, in the state dir and in the fleet repo, and keeps a live writer's.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempFleet } from '@agentfleet/testing/run-cli';
import { expect, it } from 'vitest';

it('a locking command removes the temps of dead writers from the state dir and the fleet repo', () => {
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  }).stdout;
  const stale = [
    `state/.state.json.${dead}.0a1b2c3d.tmp`,
    // A host key made before first boot, killed between write and rename: a private key's temp.
    `state/hostkeys/.agent-klt_ed25519.${dead}.0a1b2c3d.tmp`,
    `agents/.ledger.yaml.${dead}.0a1b2c3d.tmp`,
    `hosts/.agents.json.${dead}.0a1b2c3d.tmp`,
    `secrets/.token.age.${dead}.0a1b2c3d.tmp`,
    `secrets/hosts/.klt.pub.${dead}.0a1b2c3d.tmp`,
  ];
  // This test process is alive: its temp may be a write in progress.
  const live = `secrets/.other.age.${process.pid}.0a1b2c3d.tmp`;
  const dir = tempFleet({
    'agents/fleet.yaml':
      'libvirtUri: test:///default\nstateDir: ./state\nbaseImage: ./base.qcow2\nreservedCores: []\n' +
      'sshPorts: { start: 41290, end: 41299 }\nspicePorts: { start: 41280, end: 41289 }\n',
    'agents/klt.yaml': 'memory: 256MiB\nvcpus: 1\nshareCores: true\ngit: { email: klt@example.org }\n',
    ...Object.fromEntries([...stale, live].map((f) => [f, 'partial'])),
  });
  const r = runCli(['down'], dir);
  expect(r.status, r.stderr).toBe(0);
  expect(stale.filter((f) => existsSync(join(dir, f)))).toEqual([]);
  expect(existsSync(join(dir, live))).toBe(true);
});
