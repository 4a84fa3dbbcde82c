// A fleet repo is reviewed and shared, so a libvirt URI in it must not be able to run a program:
// every command refuses an unsafe URI (exit 2, file:line:field) before it opens any connection.
// The URIs point at a marker script; the marker file proves whether anything ran it.
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempFleet } from '@agentfleet/testing/run-cli';
import { describe, expect, it } from 'vitest';

const agent = 'git: { email: a@example.com }\nvcpus: 1\n';

function markerFleet(fleetUri: string | undefined, agentUri?: string) {
  const dir = tempFleet({ 'agents/fleet.yaml': '{}\n', 'agents/alpha.yaml': agent });
  const marker = join(dir, 'ran');
  const prog = join(dir, 'connect.sh');
  writeFileSync(prog, `#!/bin/sh\ntouch ${marker}\n`);
  chmodSync(prog, 0o755);
  const fill = (uri: string) => uri.replaceAll('PROG', prog);
  writeFileSync(
    join(dir, 'agents/fleet.yaml'),
    `sshPorts: { start: 32400 }\nspicePorts: { start: 32500 }\n${fleetUri ? `libvirtUri: "${fill(fleetUri)}"\n` : ''}`,
  );
  if (agentUri) writeFileSync(join(dir, 'agents/alpha.yaml'), `${agent}libvirtUri: "${fill(agentUri)}"\n`);
  return { dir, marker, prog };
}

// One URI per transport or parameter that runs a program or skips verification.
const CORPUS = [
  'qemu+ext:///system?command=PROG',
  'qemu+ssh://127.0.0.1/system?command=PROG',
  'qemu+libssh2://127.0.0.1/system?command=PROG',
  'qemu+libssh2://127.0.0.1/system?comm%61nd=PROG',
  'qemu+ssh://127.0.0.1/system?netcat=PROG',
  'qemu+ssh://127.0.0.1/system?socket=%24(PROG)',
  'qemu+ssh://127.0.0.1/system?proxy=netcat',
  'qemu+ssh://-oProxyCommand=PROG/system',
  'qemu+tcp://127.0.0.1/system',
  'qemu+tls://127.0.0.1/system?no_verify=1',
  'qemu+tls://127.0.0.1/system?no_sanity=1',
  'qemu+libssh2://127.0.0.1/system?known_hosts_verify=ignore',
  'qemu+ssh://127.0.0.1/system?name=qemu%2Bext:///system%3Fcommand%3DPROG',
  // Not unsafe but crashing: libvirt 9.0's libssh client frees its event loop under itself.
  'qemu+libssh://127.0.0.1/system',
];

describe('unsafe libvirt URIs', () => {
  it.each(CORPUS)('%s: validate refuses it with file:line:field, nothing runs', (uri) => {
    const f = markerFleet(uri);
    const r = runCli(['validate'], f.dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^agents\/fleet\.yaml:3:13: libvirtUri: .*refused, nothing was connected/m);
    expect(existsSync(f.marker)).toBe(false);
  });

  it('every command that would connect refuses first, for the fleet URI and an agent URI', () => {
    for (const [fleetUri, agentUri, where] of [
      ['qemu+ext:///system?command=PROG', undefined, 'agents/fleet.yaml:3:13'],
      [undefined, 'qemu+ssh://127.0.0.1/system?command=PROG', 'agents/alpha.yaml:3:13'],
    ] as const) {
      const f = markerFleet(fleetUri, agentUri);
      for (const args of [
        ['plan'],
        ['status'],
        ['xml', 'alpha'],
        ['up', '--no-provision'],
        ['allocate'],
        ['destroy', '--yes', 'alpha'],
        ['import', 'alpha'],
      ]) {
        const r = runCli(args, f.dir);
        expect(r.status, `fleet ${args.join(' ')}`).toBe(2);
        expect(r.stderr).toContain(`${where}: libvirtUri:`);
        expect(existsSync(f.marker), `fleet ${args.join(' ')} ran the program`).toBe(false);
      }
    }
  }, 180_000);

  it('runs only what fleet.yaml opts into, for exactly that URI', () => {
    const f = markerFleet('qemu+ext:///system?command=PROG');
    const uri = `qemu+ext:///system?command=${f.prog}`;
    writeFileSync(
      join(f.dir, 'agents/fleet.yaml'),
      `sshPorts: { start: 32400 }\nspicePorts: { start: 32500 }\nlibvirtUri: "${uri}"\nunsafeLibvirtUris: ["${uri}"]\n`,
    );
    expect(runCli(['validate'], f.dir).status).toBe(0);
    // The opted-in program does run when a command connects (it cannot speak libvirt, so it fails).
    expect(runCli(['plan'], f.dir).status).not.toBe(0);
    expect(existsSync(f.marker)).toBe(true);
  });
});
