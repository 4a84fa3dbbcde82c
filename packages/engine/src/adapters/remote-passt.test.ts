// What the remote passt adapter says when a host cannot run an isolated agent's passt the way fleet.yaml asks, on
// canned host facts (the scripts themselves run for real in remote-passt.integration.test.ts and the multihost e2e).
import { describe, expect, it } from 'vitest';
import { type HostCommands, parseRemotePasstFacts, RemotePasstNetworks } from './remote-passt.js';

const URI = 'qemu+ssh://fleet@hostb.example/system';
const spec = {
  agent: 'drago',
  uri: URI,
  socketPath: '/run/agentfleet/f1/run/agent-drago/passt.sock',
  sshPort: 2222,
};

/** A host whose facts are `facts`; every other command is recorded and answered `ok`. */
function hostWith(facts: string) {
  const ran: string[] = [];
  const host: HostCommands = {
    run: async (_uri, command) => {
      if (command.includes('resolv.conf:')) return facts;
      ran.push(command);
      return 'ok\n';
    },
  };
  return { host, ran };
}

const facts = (o: { uid?: number; passt?: boolean; nft?: boolean; user?: boolean }) =>
  [
    `uid=${o.uid ?? 0}`,
    `gid=${o.uid ?? 0}`,
    `passt=${o.passt === false ? '' : '/usr/bin/passt'}`,
    `nft=${o.nft === false ? '' : '/usr/sbin/nft'}`,
    `user=${o.user === false ? '' : 'agentfleet-passt:x:995:994::/nonexistent:/usr/sbin/nologin'}`,
    'resolv.conf:',
    'nameserver 192.168.1.1',
    'nameserver fe80::1%eth0',
    '',
  ].join('\n');

describe('RemotePasstNetworks refusals', () => {
  it('reads the facts: ids, tools, the passt user, the resolvers', () => {
    expect(parseRemotePasstFacts(facts({}))).toEqual({
      uid: 0,
      gid: 0,
      passt: true,
      nft: true,
      passtUser: { uid: 995, gid: 994 },
      resolvers: ['192.168.1.1'],
    });
    const plain = parseRemotePasstFacts(facts({ uid: 1000, nft: false, user: false }));
    expect(plain).toMatchObject({ uid: 1000, nft: false });
    expect(plain.passtUser).toBeUndefined();
  });

  it.each([
    [
      { passt: false },
      'auto',
      /hostb\.example: passt is not installed there .*install the passt package on that host/,
    ],
    [
      { uid: 1000 },
      'on',
      /networkFirewall: on needs fleet to log in to that host as root .*uid 1000.*networkFirewall: off/,
    ],
    [
      { nft: false },
      'on',
      /networkFirewall needs nft there.*install the nftables package on it, or set networkFirewall: off/,
    ],
    [
      { user: false },
      'auto',
      /lacks: create it there with `useradd --system .* agentfleet-passt`, or set networkFirewall: off/,
    ],
  ] as const)(
    '%o with networkFirewall %s: a clear error with the remedy, and nothing started',
    async (f, firewall, message) => {
      const { host, ran } = hostWith(facts(f));
      await expect(new RemotePasstNetworks({ host, firewall }).ensure(spec)).rejects.toThrow(message);
      expect(ran).toEqual([]);
    },
  );

  it('off, or auto without root: passt runs unconfined as the login user, with no nft at all', async () => {
    for (const [f, firewall] of [
      [{ uid: 1000, nft: false, user: false }, 'auto'],
      [{ nft: false, user: false }, 'off'],
    ] as const) {
      const { host, ran } = hostWith(facts(f));
      await new RemotePasstNetworks({ host, firewall }).ensure(spec);
      expect(ran).toHaveLength(1);
      expect(ran[0]).not.toContain('nft');
      expect(ran[0]).toContain(`--runas ${f.uid ?? 0}:${f.uid ?? 0}`);
      expect(ran[0]).toContain('--socket "$BIND"');
    }
  });

  it('confined: the table (uid, resolvers) and passt as agentfleet-passt in one script; a script error is reported as said', async () => {
    const { host, ran } = hostWith(facts({}));
    await new RemotePasstNetworks({ host, firewall: 'auto' }).ensure(spec);
    expect(ran[0]).toContain('meta skuid 995 jump passt');
    expect(ran[0]).toContain('ip daddr { 192.168.1.1 } meta l4proto { tcp, udp } th dport 53 return');
    expect(ran[0]).toContain('--runas 995:994');
    const failing: HostCommands = {
      run: async (_uri, command) =>
        command.includes('resolv.conf:') ? facts({}) : 'error: cannot make /x (0700)\n',
    };
    await expect(new RemotePasstNetworks({ host: failing, firewall: 'on' }).ensure(spec)).rejects.toThrow(
      'passt for agent drago on hostb.example: cannot make /x (0700)',
    );
  });
});
