import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsonSchemas } from './json-schema.js';

const committed = (name: string) =>
  JSON.parse(readFileSync(new URL(`../schema/${name}.schema.json`, import.meta.url), 'utf8')) as unknown;

describe('published JSON Schemas', () => {
  it.each(['fleet', 'agent'] as const)(
    'schema/%s.schema.json matches the zod schema (regenerate: node packages/core/schema/generate.mjs)',
    (name) => {
      expect(committed(name)).toEqual(jsonSchemas()[name]);
    },
  );

  it('the shipped YAML points editors at them', () => {
    for (const f of ['fleet', 'drago', 'luce']) {
      const text = readFileSync(new URL(`../../../agents/${f}.yaml`, import.meta.url), 'utf8');
      const schema = f === 'fleet' ? 'fleet' : 'agent';
      expect(text.split('\n')[0]).toBe(
        `# yaml-language-server: $schema=../packages/core/schema/${schema}.schema.json`,
      );
    }
  });
});
