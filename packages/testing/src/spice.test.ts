import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { spiceHandshake } from './spice.js';

let server: net.Server | undefined;
afterEach(() => server?.close());

function listen(onConnection: (s: net.Socket) => void): Promise<number> {
  const srv = net.createServer(onConnection);
  server = srv;
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port)),
  );
}

it('rejects a listener that is not a SPICE server', async () => {
  const port = await listen((s) => s.end('SSH-2.0-OpenSSH_9.2\r\n'));
  await expect(spiceHandshake('127.0.0.1', port)).rejects.toThrow(/bad magic/);
});

it('reports a SPICE link error code', async () => {
  const port = await listen((s) => {
    const reply = Buffer.alloc(16 + 4);
    reply.write('REDQ', 0, 'latin1');
    reply.writeUInt32LE(2, 4);
    reply.writeUInt32LE(2, 8);
    reply.writeUInt32LE(4, 12);
    reply.writeUInt32LE(7, 16); // SPICE_LINK_ERR_PERMISSION_DENIED
    s.end(reply);
  });
  await expect(spiceHandshake('127.0.0.1', port)).rejects.toThrow(/link error 7/);
});
