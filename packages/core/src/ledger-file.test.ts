// renderLedger writes common ledgers directly instead of through the `yaml` library; this checks
// the direct route writes exactly what the library writes, and steps aside when unsure.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Allocation, Ledger } from './ledger.js';
import { parseLedger, renderLedger, renderLedgerFast, renderLedgerYaml } from './ledger-file.js';

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
  it('writes what the yaml library writes, and reads back the same', () => {
    fc.assert(
      fc.property(hosts, (h) => {
        const ledger: Ledger = { version: 1, hosts: h };
        const text = renderLedger(ledger);
        const fast = renderLedgerFast(1, JSON.parse(JSON.stringify(h)));
        const reference = renderLedgerYaml(1, JSON.parse(JSON.stringify(h)));
        if (fast !== undefined) expect(fast).toBe(reference);
        const sorted = Object.fromEntries(
          Object.keys(h)
            .sort()
            .map((u) => [
              u,
              Object.fromEntries(Object.entries(h[u] ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))),
            ]),
        );
        expect(text).toBe(renderLedgerYaml(1, sorted));
        const back = parseLedger(text, 'agents/ledger.yaml');
        expect(back.ok && back.value.hosts).toEqual(h);
      }),
      { numRuns: 300 },
    );
  });

  it('takes the direct route for ordinary ledgers', () => {
    const a: Allocation = { sshPort: 2222, spicePort: 5900, cores: [0, 1], mac: '52:54:00:0a:0b:0c' };
    expect(renderLedgerFast(1, { 'qemu:///system': { drago: a } })).toBeDefined();
  });

  it('leaves keys and values with more than one spelling to the library', () => {
    const a: Allocation = { sshPort: 2222, spicePort: 5900, cores: [0], mac: '52:54:00:0a:0b:0c' };
    const unsure: Ledger['hosts'][] = [
      { 'qemu+ssh://h/system?keyfile=/k': { a } },
      { 'qemu:///system #x': { a } },
      { 'qemu:///system': { true: a } },
      { 'qemu:///system': { null: a } },
      { 'qemu:///system': { a: { ...a, cores: [] } } },
      { 'qemu:///system': { a: { ...a, mac: '52:54:00:0A:0B:0C' } } },
      { 'qemu:///system': { a: { ...a, sshPort: -1 } } },
      { 'qemu:///system': { a: { ...a, extra: 1 } as Allocation } },
      {},
    ];
    for (const h of unsure) {
      expect(renderLedgerFast(1, h)).toBeUndefined();
      expect(renderLedger({ version: 1, hosts: h })).toBe(renderLedgerYaml(1, h));
    }
  });
});
