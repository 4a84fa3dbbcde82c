// The binding's storage calls on libvirt's test driver (no daemon; pools and volumes live in the connection's
// memory). Uploads are daemon-only: the test driver has no virStorageVolUpload (storage.integration.test.ts).
import { storageContract, volumeXml } from '@agentfleet/testing/storage-contract';
import { expect, it } from 'vitest';
import { open } from './connection.js';
import { LibvirtError } from './errors.js';

storageContract('storage on test:///default', {
  open: () => open('test:///default'),
  poolName: 'st-contract',
  poolPath: '/st-contract',
});

it('reports that the test driver cannot upload as a libvirt error naming the call', async () => {
  const conn = await open('test:///default');
  try {
    await conn.storage.createVolume('default-pool', volumeXml('up.img', 4096));
    const err = await conn.storage.upload('default-pool', 'up.img', '/dev/null', 0).then(
      () => expect.fail('expected a rejection'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LibvirtError);
    expect((err as LibvirtError).func).toBe('virStorageVolUpload');
    expect((err as LibvirtError).message).toMatch(/not supported/);
  } finally {
    await conn.close();
  }
});
