import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Allocation } from './ledger.js';
import { parseLedger, renderLedger } from './ledger-file.js';

const port = fc.integer({ min: 1, max: 65535 });
const hex = fc.integer({ min: 0, max: 255 }).map((n) => n.toString(16).padStart(2, '0'));
const mac = fc.tuple(hex, hex, hex).map((xs) => `52:54:00:${xs.join(':')}`);
const allocation: fc.Arbitrary<Allocation> = fc.record({
  sshPort: port,
  spicePort: port,
  cores: fc.array(fc.integer({ min: 0, max: 4096 }), { minLength: 1, maxLength: 6 }),
  mac,
});
const name = fc.stringMatching(/^[a-z](?:[a-z0-9-]{0,29}[a-z0-9])?$/);
const uri = fc.oneof(
  fc.constantFrom('qemu:///system', 'qemu:///session', 'test:///default', 'qemu+ssh://root@h-1.lan/system'),
  fc.stringMatching(/^[a-z][a-z0-9+.-]{0,6}:\/\/[A-Za-z0-9._~/@+-]{0,20}$/),
);
const hosts = fc.dictionary(uri, fc.dictionary(name, allocation, { minKeys: 1, maxKeys: 5 }), {
  minKeys: 1,
  maxKeys: 3,
});

describe('renderLedger', () => {
  it('writes hosts and agents sorted, and reads back the same', () => {
    fc.assert(
      fc.property(hosts, (h) => {
        const text = renderLedger({ version: 1, hosts: h });
        const shuffled = Object.fromEntries(
          Object.entries(h)
            .reverse()
            .map(([u, agents]) => [u, Object.fromEntries(Object.entries(agents).reverse())]),
        );
        expect(renderLedger({ version: 1, hosts: shuffled })).toBe(text);
        const back = parseLedger(text, 'agents/ledger.yaml');
        expect(back.ok && back.value.hosts).toEqual(h);
      }),
      { numRuns: 300 },
    );
  });

  it('a ledger as committed: header comment, flow core lists, quoted MACs', () => {
    const a: Allocation = { sshPort: 2222, spicePort: 5900, cores: [0, 1], mac: '52:54:00:0a:0b:0c' };
    const b: Allocation = { sshPort: 2223, spicePort: 5901, cores: [2], mac: '52:54:00:0a:0b:0d' };
    const fleetId = '0b7a3f52-6d1e-4c2b-9a8f-3e5d7c9b1a20';
    expect(renderLedger({ version: 1, fleetId, hosts: { 'qemu:///system': { luce: b, drago: a } } })).toBe(
      [
        '# Allocation ledger, written by `fleet allocate`. Commit it, like a lock file.',
        "# Entries never move when agents are added or removed; edit an agent's YAML (ports/cores) to move it.",
        '',
        'version: 1',
        `fleetId: ${fleetId}`,
        'hosts:',
        '  qemu:///system:',
        '    drago:',
        '      sshPort: 2222',
        '      spicePort: 5900',
        '      cores: [0, 1]',
        '      mac: "52:54:00:0a:0b:0c"',
        '    luce:',
        '      sshPort: 2223',
        '      spicePort: 5901',
        '      cores: [2]',
        '      mac: "52:54:00:0a:0b:0d"',
        '',
      ].join('\n'),
    );
  });
});
