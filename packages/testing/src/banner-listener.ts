import { type ChildProcess, spawn } from 'node:child_process';

/**
 * A TCP listener that sends `banner` to whoever connects, in network namespace `ns` (or, undefined, the
 * machine's own): what isolation tests probe for, so a refusal is known to be the firewall's and not a missing
 * server. Its own process, since tests block their own in execFileSync while they probe. The caller kills it.
 */
export function bannerListener(
  ns: string | undefined,
  host: string,
  port: number,
  banner: string,
): ChildProcess {
  const family = host.includes(':') ? 'AF_INET6' : 'AF_INET';
  const py = `import socket
s = socket.socket(socket.${family}, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((${JSON.stringify(host)}, ${port}))
s.listen(16)
while True:
    c, _ = s.accept()
    c.sendall(${JSON.stringify(banner)}.encode())
    c.close()
`;
  const argv = ns ? ['ip', 'netns', 'exec', ns, 'python3', '-c', py] : ['python3', '-c', py];
  return spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
}
