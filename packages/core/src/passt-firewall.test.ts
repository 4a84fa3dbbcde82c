import { describe, expect, it } from 'vitest';
import { passtFirewallScript, resolvConfServers } from './passt-firewall.js';

describe('passt firewall ruleset (nft runs it for real in passt-firewall.integration.test.ts)', () => {
  it('replaces its own table atomically and only ever matches the confined uid', () => {
    const script = passtFirewallScript({ table: 'agentfleet_0123456789ab', uid: 998, resolvers: [] });
    const lines = script.split('\n');
    // Declare + delete + define: one transaction, no error when the table did not exist.
    expect(lines.slice(0, 3)).toEqual([
      'table inet agentfleet_0123456789ab',
      'delete table inet agentfleet_0123456789ab',
      'table inet agentfleet_0123456789ab {',
    ]);
    expect(lines.filter((l) => l.includes('hook'))).toEqual([
      '    type filter hook output priority filter; policy accept;',
    ]);
    // The only way into the refusing chain is the uid (positive match: socket-less packets never enter).
    expect(lines.filter((l) => l.includes('jump'))).toEqual(['    meta skuid 998 jump passt']);
    expect(script).toContain('ct state established,related return');
    expect(script).toMatch(/fib daddr type \{ local, broadcast, anycast, multicast \} reject/);
    for (const net of [
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '169.254.0.0/16',
      '127.0.0.0/8',
      '100.64.0.0/10',
    ])
      expect(script).toContain(net);
    expect(script).toMatch(/ip6 daddr \{[^}]*fc00::\/7[^}]*fe80::\/10/);
    expect(script).not.toContain('dport 53');
  });

  it("keeps port 53 of the host's resolvers open, per family, and nothing else on them", () => {
    const script = passtFirewallScript({
      table: 'agentfleet_x',
      uid: 998,
      resolvers: ['10.255.255.53', 'fd00::53'],
    });
    expect(script).toContain('ip daddr { 10.255.255.53 } meta l4proto { tcp, udp } th dport 53 return');
    expect(script).toContain('ip6 daddr { fd00::53 } meta l4proto { tcp, udp } th dport 53 return');
  });

  it('refuses a table name outside its namespace and a root uid', () => {
    expect(() => passtFirewallScript({ table: 'filter', uid: 998, resolvers: [] })).toThrow(/table name/);
    expect(() =>
      passtFirewallScript({ table: 'agentfleet_x; flush ruleset', uid: 998, resolvers: [] }),
    ).toThrow();
    expect(() => passtFirewallScript({ table: 'agentfleet_x', uid: 0, resolvers: [] })).toThrow(/non-root/);
  });

  it('reads nameservers from resolv.conf, leaving out scoped and malformed ones', () => {
    expect(
      resolvConfServers(
        '# generated\nnameserver 10.255.255.53\nnameserver 10.255.255.53\n  nameserver fd00::53\nnameserver fe80::1%eth0\nnameserver 300.1.1.1\nsearch example.org\noptions edns0\n',
      ),
    ).toEqual(['10.255.255.53', 'fd00::53']);
  });
});
