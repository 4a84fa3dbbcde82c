// The nftables table that confines isolated agents' passt (`networkFirewall`). passt NATs a
// guest's connections through the host's own sockets, so without it a guest reaches whatever the
// host reaches except its loopback: services on 0.0.0.0 or a LAN address, the LAN, 169.254.169.254.
// passt runs as a dedicated system user, and this table refuses new connections of that user's
// sockets to those destinations; everything else of the host (other users, replies on passt's
// forwarded SSH connections) is untouched, so a table left behind by a crash breaks nothing.

/** The system user every confined passt runs as (shared by all fleets on a host). */
export const PASST_USER = 'agentfleet-passt';

/**
 * IPv4 destinations refused besides the host's own addresses: "this network", RFC 1918, CGNAT
 * (RFC 6598, also what overlay VPNs such as Tailscale use), loopback, link-local (cloud metadata
 * 169.254.169.254), multicast and reserved.
 */
export const FIREWALL_BLOCKED_V4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '224.0.0.0/4',
  '240.0.0.0/4',
] as const;

/** IPv6 likewise (passt runs `--ipv4-only` today; the table does not depend on that). */
export const FIREWALL_BLOCKED_V6 = ['::/127', '::ffff:0:0/96', 'fc00::/7', 'fe80::/10', 'ff00::/8'] as const;

/** One table per fleet (named from a digest of its state dir), so fleets never remove each other's. */
export const firewallTableName = (fleetKey: string) => `agentfleet_${fleetKey}`;

export interface PasstFirewall {
  table: string;
  /** uid of PASST_USER. */
  uid: number;
  /**
   * The host's DNS servers (resolv.conf): passt hands them to the guest, and they are often a LAN
   * address, so port 53 on them stays open (nothing else on them).
   */
  resolvers: readonly string[];
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

/** The nameserver addresses of a resolv.conf text (scoped IPv6 ones, `fe80::1%eth0`, are left out). */
export function resolvConfServers(text: string): string[] {
  const servers: string[] = [];
  for (const line of text.split('\n')) {
    const addr = /^\s*nameserver\s+(\S+)/.exec(line)?.[1];
    if (!addr) continue;
    if (IPV4.test(addr) && addr.split('.').every((o) => Number(o) <= 255)) servers.push(addr);
    else if (addr.includes(':') && IPV6.test(addr)) servers.push(addr);
  }
  return [...new Set(servers)];
}

/**
 * An `nft -f` script that replaces the table atomically (declare, delete, define in one
 * transaction: no moment without rules, and no error when it did not exist yet).
 */
export function passtFirewallScript(fw: PasstFirewall): string {
  if (!/^agentfleet_[0-9a-z_]+$/.test(fw.table))
    throw new Error(`not a fleet firewall table name: ${fw.table}`);
  if (!Number.isInteger(fw.uid) || fw.uid <= 0)
    throw new Error(`${PASST_USER} must be a non-root uid, not ${fw.uid}`);
  const v4 = fw.resolvers.filter((r) => IPV4.test(r));
  const v6 = fw.resolvers.filter((r) => !IPV4.test(r));
  const refuse = 'reject with icmpx admin-prohibited';
  return [
    `table inet ${fw.table}`,
    `delete table inet ${fw.table}`,
    `table inet ${fw.table} {`,
    '  chain output {',
    '    type filter hook output priority filter; policy accept;',
    // A positive match: a packet without a socket (the kernel's own RSTs, ICMP) never enters.
    `    meta skuid ${fw.uid} jump passt`,
    '  }',
    '  chain passt {',
    // Replies on connections passt accepted (the SSH forward's client is on 127.0.0.1).
    '    ct state established,related return',
    ...(v4.length > 0
      ? [`    ip daddr { ${v4.join(', ')} } meta l4proto { tcp, udp } th dport 53 return`]
      : []),
    ...(v6.length > 0
      ? [`    ip6 daddr { ${v6.join(', ')} } meta l4proto { tcp, udp } th dport 53 return`]
      : []),
    `    fib daddr type { local, broadcast, anycast, multicast } ${refuse}`,
    `    ip daddr { ${FIREWALL_BLOCKED_V4.join(', ')} } ${refuse}`,
    `    ip6 daddr { ${FIREWALL_BLOCKED_V6.join(', ')} } ${refuse}`,
    '  }',
    '}',
    '',
  ].join('\n');
}
