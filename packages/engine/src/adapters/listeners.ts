import { readdir, readFile, readlink } from 'node:fs/promises';

export interface TcpListener {
  address: string;
  port: number;
  /** The socket's inode, which /proc/<pid>/fd links name: how its process is found. */
  inode?: number;
}

const LISTEN = '0A';

/** Parses one /proc/net/tcp{,6} table into its LISTEN sockets. */
export function parseProcNetTcp(text: string, family: 4 | 6): TcpListener[] {
  const out: TcpListener[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4 || cols[3] !== LISTEN) continue;
    const [addrHex, portHex] = (cols[1] ?? '').split(':');
    if (!addrHex || !portHex) continue;
    const inode = Number(cols[9]);
    out.push({
      address: family === 4 ? ipv4(addrHex) : ipv6(addrHex),
      port: Number.parseInt(portHex, 16),
      ...(inode > 0 && { inode }),
    });
  }
  return out;
}

// The kernel prints addresses as host-order 32-bit words: little-endian on x86.
function ipv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

function ipv6(hex: string): string {
  const groups: string[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    const bytes = word.match(/../g)?.reverse() ?? [];
    groups.push(`${bytes[0]}${bytes[1]}`, `${bytes[2]}${bytes[3]}`);
  }
  return groups.map((g) => Number.parseInt(g, 16).toString(16)).join(':');
}

/** TCP ports listening on this host (both families), read from /proc without spawning ss. */
export async function tcpListeners(): Promise<TcpListener[]> {
  const tables = await Promise.all([
    readFile('/proc/net/tcp', 'utf8').then((t) => parseProcNetTcp(t, 4)),
    readFile('/proc/net/tcp6', 'utf8')
      .then((t) => parseProcNetTcp(t, 6))
      .catch(() => []),
  ]);
  return tables.flat();
}

/** True when something accepts TCP connections on 127.0.0.1:port (or a wildcard address). */
export async function listensOnLoopback(port: number): Promise<boolean> {
  const loopbackOrAny = new Set(['127.0.0.1', '0.0.0.0', '0:0:0:0:0:0:0:0', '0:0:0:0:0:0:0:1']);
  return (await tcpListeners()).some((l) => l.port === port && loopbackOrAny.has(l.address));
}

/** Longest command line quoted in a message. */
const MAX_COMMAND = 80;

/**
 * Who holds each listener's socket, as "process <pid> (<command line>)", by its inode in
 * /proc/<pid>/fd: what a port conflict names. Sockets of processes this user may not inspect
 * stay unnamed.
 */
export async function listenerHolders(listeners: readonly TcpListener[]): Promise<Map<number, string>> {
  const portOf = new Map(listeners.flatMap((l) => (l.inode ? [[l.inode, l.port] as const] : [])));
  const holders = new Map<number, string>();
  if (portOf.size === 0) return holders;
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
  await Promise.all(
    pids.map(async (pid) => {
      const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
      for (const fd of fds) {
        const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
        const port = portOf.get(Number(/^socket:\[(\d+)\]$/.exec(link)?.[1]));
        if (port === undefined || holders.has(port)) continue;
        const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        const command = argv.split('\0').filter(Boolean).join(' ') || '?';
        const shown = command.length > MAX_COMMAND ? `${command.slice(0, MAX_COMMAND)}...` : command;
        holders.set(port, `process ${pid} (${shown})`);
      }
    }),
  );
  return holders;
}
