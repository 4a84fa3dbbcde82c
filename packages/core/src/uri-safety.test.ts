import { describe, expect, it } from 'vitest';
import { loadFleet } from './load-fleet.js';
import { libvirtUriProblem } from './uri-safety.js';

describe('libvirtUriProblem', () => {
  it.each([
    'qemu:///system',
    'qemu:///session',
    'test:///default',
    'qemu+unix:///system?socket=/run/libvirt/libvirt-sock',
    'qemu+ssh://root@10.213.0.2/system?keyfile=/k/id&known_hosts=/k/kh&no_tty=1',
    'qemu+libssh2://u@host:2222/system?known_hosts_verify=normal&sshauth=privkey',
    'qemu+libssh2://host/system',
    'qemu+tls://host.example.org/system?pkipath=/etc/pki/x&no_verify=0',
    'qemu://host.example.org/system',
    'qemu+ssh://host/system?proxy=native',
    'qemu+ssh://host/system?name=qemu:///system',
  ])('accepts %s', (uri) => {
    expect(libvirtUriProblem(uri)).toBeUndefined();
  });

  it.each([
    ['qemu+ext:///system?command=/tmp/x', /transport '\+ext' runs an external program/],
    ['qemu+tcp://host/system', /'\+tcp' is unencrypted/],
    ['qemu+ssh://host/system?command=/tmp/x', /'command=\/tmp\/x' runs a program/],
    ['qemu+libssh2://host/system?command=/tmp/x', /runs a program/],
    ['qemu+ssh://host/system?netcat=/tmp/x', /names a program run on the remote host/],
    ['qemu+ssh://host/system?socket=$(touch /tmp/x)', /spliced into the command/],
    ['qemu+ssh://host/system?proxy=netcat', /runs netcat/],
    ['qemu+tls://host/system?no_verify=1', /turns off verification/],
    ['qemu+tls://host/system?no_sanity=1', /sanity checks/],
    ['qemu+libssh2://host/system?known_hosts_verify=ignore', /accepts an unknown or changed SSH host key/],
    ['qemu+libssh2://host/system?known_hosts_verify=auto', /accepts an unknown or changed SSH host key/],
    ['qemu+ssh://host/system?name=qemu%2Bext:///system%3Fcommand%3D/x', /names an unsafe URI/],
    // libvirt decodes parameter names and matches them case-insensitively.
    ['qemu+ssh://host/system?comm%61nd=/tmp/x', /'command=\/tmp\/x'/],
    ['qemu+ssh://host/system?COMMAND=/tmp/x', /'command=\/tmp\/x'/],
    ['qemu+ssh://host/system?keyfile=/k;command=/tmp/x', /'command=\/tmp\/x'/],
    ['qemu+ssh://host/system?frobnicate=1', /'frobnicate' is not one fleet knows/],
    ['qemu+ssh://-oProxyCommand=x/system', /not a plain user@host/],
    ['qemu+ssh://-oProxyCommand=x@host/system', /not a plain user@host/],
    ['qemu+rsh://host/system', /unknown transport '\+rsh'/],
    [
      'qemu+libssh://root@host/system?keyfile=/k',
      /'\+libssh' crashes libvirt's client.*use \+libssh2 or \+ssh/,
    ],
  ])('refuses %s', (uri, why) => {
    expect(libvirtUriProblem(uri)).toMatch(why);
  });
});

describe('URI rules in the fleet files', () => {
  const unsafe = 'qemu+ext:///system?command=/opt/connect';
  it('refuses with file:line:field, in fleet.yaml and in an agent', () => {
    const r = loadFleet([
      { path: 'agents/fleet.yaml', text: `libvirtUri: "${unsafe}"\n` },
      { path: 'agents/a.yaml', text: 'git: { email: a@x.org }\nlibvirtUri: qemu+tcp://h/system\n' },
    ]);
    expect(r.ok).toBe(false);
    const lines = r.ok ? [] : r.diagnostics.map((d) => `${d.file}:${d.line}:${d.path}`);
    expect(lines).toEqual(['agents/a.yaml:2:libvirtUri', 'agents/fleet.yaml:1:libvirtUri']);
  });
  it('refuses a host over the libssh transport, naming the transport to use instead', () => {
    const r = loadFleet([
      {
        path: 'agents/fleet.yaml',
        text: "hosts:\n  there: { uri: 'qemu+libssh://root@10.0.0.2/system?keyfile=/k' }\n",
      },
      { path: 'agents/a.yaml', text: 'git: { email: a@x.org }\n' },
    ]);
    expect(r.ok).toBe(false);
    const d = r.ok ? undefined : r.diagnostics[0];
    expect(`${d?.file}:${d?.line}:${d?.path}`).toBe('agents/fleet.yaml:2:hosts.there.uri');
    expect(d?.message).toMatch(/'\+libssh' crashes libvirt's client .*use \+libssh2 or \+ssh/);
  });
  it('allows exactly the URIs fleet.yaml opts into', () => {
    const files = (extra: string) => [
      { path: 'agents/fleet.yaml', text: `libvirtUri: "${unsafe}"\n${extra}` },
      { path: 'agents/a.yaml', text: 'git: { email: a@x.org }\n' },
    ];
    expect(loadFleet(files(`unsafeLibvirtUris: ["${unsafe}"]\n`)).ok).toBe(true);
    expect(loadFleet(files(`unsafeLibvirtUris: ["${unsafe}x"]\n`)).ok).toBe(false);
  });
});
