import { goodFleetFiles } from '@agentfleet/testing/bad-files';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from './diagnostics.js';
import { loadFleet } from './load-fleet.js';
import { defaultShareTag, shareSourceProblem, sharesAnnouncement } from './shares.js';

/** The fixture fleet plus agents/x.yaml on qemu:///system with these YAML lines for shares. */
function load(shares: string, uri = 'qemu:///system') {
  const text = `libvirtUri: ${uri}\ngit: { email: x@example.com }\nshares:\n${shares}`;
  return loadFleet([...goodFleetFiles(), { path: 'agents/x.yaml', text }]);
}
const problems = (shares: string, uri?: string) => {
  const r = load(shares, uri);
  return r.ok ? [] : r.diagnostics.map(formatDiagnostic);
};

describe('shares in agent YAML', () => {
  it('are read-only unless the YAML says otherwise, with tags from their mount points', () => {
    const r = load(
      '  - { source: ../projects, target: /mnt/host-projects }\n' +
        '  - { source: /srv/out, target: /home/x/out, readOnly: false, tag: results }\n',
    );
    if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
    expect(r.value.agents.find((a) => a.name === 'x')?.shares).toEqual([
      { source: '../projects', target: '/mnt/host-projects', tag: 'host-projects', readOnly: true },
      { source: '/srv/out', target: '/home/x/out', tag: 'results', readOnly: false },
    ]);
  });

  it('need the system libvirt on this machine: a session or a remote host is refused by name, with the reason', () => {
    expect(problems('  - { source: /srv/a, target: /mnt/a }\n', 'qemu:///session')).toContain(
      `agents/x.yaml:4:3: shares: shares use virtiofs, which libvirt starts as root on this machine: the agent's ` +
        `libvirt URI must be qemu:///system, not qemu:///session (set libvirtUri: qemu:///system, or remove shares)`,
    );
    expect(problems('  - { source: /srv/a, target: /mnt/a }\n', 'qemu+ssh://root@h/system')).toContain(
      'agents/x.yaml:4:3: shares: shares are directories of this machine (fleet resolves and checks each source here ' +
        'and serves it through virtiofsd with a read-only wrapper installed here), but this agent runs on ' +
        'qemu+ssh://root@h/system, where a source would be a path on that host that fleet can neither check nor ' +
        'protect: keep the agent on this machine (a local host:, or libvirtUri: qemu:///system), or remove shares',
    );
  });

  it('refuse mount points that would hide the system, the home of the user, or are not normalized', () => {
    expect(
      problems(
        [
          '  - { source: /a, target: /etc/y }',
          '  - { source: /b, target: /nix }',
          '  - { source: /c, target: /home/x }',
          '  - { source: /d, target: /mnt/d/ }',
          '  - { source: /e, target: /mnt/../etc }',
          '  - { source: /f, target: / }',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      "agents/x.yaml:4:27: shares.0.target: mount point '/etc/y' would hide the guest's /etc: mount shares elsewhere, e.g. /mnt/NAME",
      "agents/x.yaml:5:27: shares.1.target: mount point '/nix' would hide the guest's /nix: mount shares elsewhere, e.g. /mnt/NAME",
      "agents/x.yaml:6:27: shares.2.target: mount point '/home/x' would hide everything in it: mount the share below it, e.g. /home/x/projects",
      "agents/x.yaml:7:27: shares.3.target: mount point '/mnt/d/' is not normalized: write it without '.', '..', '//' or a trailing '/'",
      "agents/x.yaml:8:27: shares.4.target: mount point '/mnt/../etc' is not normalized: write it without '.', '..', '//' or a trailing '/'",
      "agents/x.yaml:9:27: shares.5.target: mount point '/' would hide everything in it: mount the share below it, e.g. /projects",
    ]);
    expect(problems('  - { source: /g, target: mnt/g }\n')).toEqual([
      "agents/x.yaml:4:27: shares.0.target: an absolute guest path of letters, digits, '.', '_', '-' and '/'",
    ]);
  });

  it('refuse two shares on one mount point or one tag, a bad tag, and a comma in the source', () => {
    expect(
      problems(
        [
          '  - { source: /a, target: /mnt/a }',
          '  - { source: /b, target: /mnt/a }',
          '  - { source: /c, target: /srv/a }',
          '  - { source: "/d,e", target: /mnt/d }',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      "agents/x.yaml:5:5: shares.1: tag 'a' is also the tag of shares.0: give one of them a tag of its own (tag: NAME)",
      "agents/x.yaml:5:27: shares.1.target: '/mnt/a' is also the target of shares.0",
      "agents/x.yaml:6:5: shares.2: tag 'a' is also the tag of shares.0: give one of them a tag of its own (tag: NAME)",
      "agents/x.yaml:7:15: shares.3.source: '/d,e' has a ',' (virtiofsd's option separator): rename the directory or share a parent",
    ]);
    expect(problems('  - { source: /f, target: /mnt/f, tag: "-bad" }\n')).toEqual([
      "agents/x.yaml:4:40: shares.0.tag: a tag is 1-36 letters, digits, '.', '_' or '-'",
    ]);
  });

  it('derive tags of at most 36 bytes that start with a letter or digit', () => {
    expect(defaultShareTag('/mnt/host-projects')).toBe('host-projects');
    expect(defaultShareTag('/srv/.cache')).toBe('cache');
    expect(defaultShareTag(`/mnt/${'a'.repeat(50)}`)).toBe('a'.repeat(36));
  });

  it('announce tag, mount point and mode to the guest, nothing from the host', () => {
    expect(
      sharesAnnouncement([
        { tag: 'projects', target: '/mnt/projects', readOnly: true },
        { tag: 'out', target: '/mnt/out', readOnly: false },
      ]),
    ).toBe('projects:/mnt/projects:ro out:/mnt/out:rw');
  });
});

describe('shareSourceProblem', () => {
  const guarded = [
    { path: '/home/u/.agentvms', what: "the fleet's state dir" },
    { path: '/home/u/.ssh', what: 'your SSH keys' },
    { path: '/etc', what: "the host's configuration" },
  ];
  it('accepts a project directory beside the guarded ones', () => {
    expect(shareSourceProblem('/home/u/projects', guarded)).toBeUndefined();
    expect(shareSourceProblem('/home/u/.agentvms-other', guarded)).toBeUndefined();
  });
  it('refuses the root, a guarded path, anything inside one, and anything that holds one', () => {
    expect(shareSourceProblem('/', guarded)).toMatch(/every key and disk/);
    expect(shareSourceProblem('/home/u/.agentvms', guarded)).toMatch(/contains the fleet's state dir/);
    expect(shareSourceProblem('/home/u/.agentvms/hostkeys', guarded)).toBe(
      "/home/u/.agentvms/hostkeys is inside the fleet's state dir (/home/u/.agentvms): it must never reach a guest",
    );
    expect(shareSourceProblem('/home/u', guarded)).toBe(
      "/home/u contains the fleet's state dir (/home/u/.agentvms): share a directory that does not, e.g. a project directory",
    );
    expect(shareSourceProblem('/etc/nginx', guarded)).toMatch(/inside the host's configuration/);
  });
});
