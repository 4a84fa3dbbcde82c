// The point of jsonText is that biome, the repository's formatter, leaves its output alone;
// checked with the real biome and the repository's biome.json, around the line-width boundary.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { agentsJson } from './agents-json.js';
import { jsonText } from './json-text.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));

function biomeFormat(text: string): string {
  return execFileSync(`${repo}node_modules/.bin/biome`, ['format', '--stdin-file-path=hosts/agents.json'], {
    cwd: repo,
    input: text,
    encoding: 'utf8',
  });
}

describe('jsonText under biome', () => {
  it('is left unchanged for arrays just under, at and over the line width, with and without a comma', () => {
    const cases = [];
    for (let length = 80; length <= 115; length++) {
      const tags = ['t'.repeat(length - 50), 'u'.repeat(40)];
      cases.push({ a: { b: { tags, z: 1 } } }, { a: { b: { tags } } });
    }
    const text = jsonText(cases);
    expect(biomeFormat(text)).toBe(text);
  });

  it('leaves hosts/agents.json as generated for a fleet with long and empty lists', () => {
    const text = agentsJson([
      {
        name: 'alpha',
        user: 'alpha',
        git: { name: 'Alpha', email: 'alpha@example.org' },
        tailscale: { tags: Array.from({ length: 12 }, (_, i) => `tag:team-${i}`) },
        desktop: false,
        secrets: Array.from({ length: 9 }, (_, i) => `secret-number-${i}`),
      },
      { name: 'beta', user: 'beta', git: { name: 'B', email: 'b@example.org' }, desktop: true, secrets: [] },
    ]);
    expect(biomeFormat(text)).toBe(text);
  });
});
