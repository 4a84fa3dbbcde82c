import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listenerHolders, listensOnLoopback, parseProcNetTcp, tcpListeners } from './listeners.js';

describe('listeners', () => {
  it('parses LISTEN rows of /proc/net/tcp and tcp6, skipping other states', () => {
    const v4 = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:08AF 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1',
      '   1: 0100007F:08B0 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1',
    ].join('\n');
    expect(parseProcNetTcp(v4, 4)).toEqual([{ address: '127.0.0.1', port: 2223, inode: 1 }]);
    const v6 = [
      '  sl  local_address                         remote_address                        st',
      '   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A',
    ].join('\n');
    expect(parseProcNetTcp(v6, 6)).toEqual([{ address: '0:0:0:0:0:0:0:1', port: 8080 }]);
  });

  it('sees a real listener on 127.0.0.1 and stops seeing it once closed', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    expect((await tcpListeners()).some((l) => l.address === '127.0.0.1' && l.port === port)).toBe(true);
    expect(await listensOnLoopback(port)).toBe(true);
    await new Promise((r) => server.close(r));
    expect(await listensOnLoopback(port)).toBe(false);
  });

  it('names the process holding a listening port: pid and command line', async () => {
    // Another process, as a squatter is: its socket is found through /proc/<pid>/fd.
    const squatter = spawn(process.execPath, [
      '-e',
      "require('net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port) })",
    ]);
    try {
      const port = Number(
        await new Promise<string>((r) => squatter.stdout.once('data', (d) => r(String(d)))),
      );
      const holders = await listenerHolders(await tcpListeners());
      expect(holders.get(port)).toBe(
        `process ${squatter.pid} (${process.execPath} -e require('net').createServer().listen(0, '127.0.0.1', function (...)`,
      );
    } finally {
      squatter.kill();
    }
  });
});
