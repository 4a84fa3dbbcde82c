// The fast route (js-yaml) must read every text exactly as the `yaml` library does, or refuse it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument, stringify } from 'yaml';
import { fastYamlValue } from './yaml-fast.js';

/** What the authoritative parser says, or undefined when it reports an error. */
function slow(text: string): { value: unknown } | undefined {
  const doc = parseDocument(text, { uniqueKeys: true });
  return doc.errors.length > 0 || doc.warnings.length > 0 ? undefined : { value: doc.toJS() };
}

/** -0 and 0 are the same number to every consumer (=== and String agree); toEqual alone tells them apart. */
function sameNumbers(v: unknown): unknown {
  if (typeof v === 'number') return Object.is(v, -0) ? 0 : v;
  if (Array.isArray(v)) return v.map(sameNumbers);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sameNumbers(x)]));
  return v;
}

function expectSameReading(text: string): void {
  const fast = fastYamlValue(text);
  if (fast) expect(sameNumbers(fast.value)).toEqual(sameNumbers(slow(text)?.value));
  if (fast) expect(slow(text)).toBeDefined();
}

const tricky = [
  'yes',
  'no',
  'on',
  'off',
  'True',
  'FALSE',
  '~',
  'null',
  'Null',
  '',
  '0o17',
  '0x1F',
  '017',
  '1e3',
  '1_000',
  '.inf',
  '-.Inf',
  '.NaN',
  '12:30:00',
  '2024-01-01',
  '+1',
  '-0',
  '0.5',
  '3.',
  '52:54:00:12:34:56',
  'tag:agent',
  '4GiB',
  '0b1',
  '1_000.5',
  '+.inf',
  '0o8',
  '0xG',
  '1.5e+3',
  '.5',
  '? x',
  '[a]',
  '---a',
  '"quoted"',
  "'single'",
  'a # comment',
  '!!str 5',
  '&a x',
  '[1, 2]',
  '{a: 1}',
  '@at',
  '`tick`',
];

describe('fastYamlValue', () => {
  it.each(tricky)('reads `key: %s` as the yaml library does (or refuses it)', (scalar) => {
    expectSameReading(`key: ${scalar}\n`);
  });

  it.each(tricky)('reads `%s` as a key as the yaml library does (or refuses it)', (scalar) => {
    expectSameReading(`${scalar}: x\nnested:\n  ${scalar}: y\n`);
  });

  it('agrees with the yaml library on random documents it writes', () => {
    const value = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 8 }),
      fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(...tricky)),
    );
    fc.assert(
      fc.property(value, fc.boolean(), (v, flow) => {
        expectSameReading(stringify(v, flow ? { collectionStyle: 'flow' } : {}));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what the yaml library refuses: duplicate keys, bad indentation, several documents', () => {
    for (const text of ['a: 1\na: 2\n', 'a:\n  b: 1\n c: 2\n', 'a: 1\n---\nb: 2\n', 'a: [1, 2\n']) {
      expect(slow(text)).toBeUndefined();
      expect(fastYamlValue(text)).toBeUndefined();
    }
  });
});
