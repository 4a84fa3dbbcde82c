import { describe, expect, it } from 'vitest';
import { withSecretListed } from './secrets-yaml.js';

describe('withSecretListed: the agent YAML keeps its formatting', () => {
  it.each([
    [
      'a flow list, its spacing and comment',
      '# c\nsecrets: [a,  b]   # mine\nuser: x\n',
      '# c\nsecrets: [a,  b,  new]   # mine\nuser: x\n',
    ],
    ['a padded flow list', 'secrets: [ "a" ]\n', 'secrets: [ "a", new ]\n'],
    ['an empty flow list', 'git: { email: x@y }\nsecrets: []\n', 'git: { email: x@y }\nsecrets: [new]\n'],
    ['an empty padded flow list', 'secrets: [ ]\n', 'secrets: [ new ]\n'],
    ['a multi-line flow list', 'secrets: [\n  a,\n  b,\n]\n', 'secrets: [\n  a,\n  b,\n  new,\n]\n'],
    [
      'a block list, its comments and blank lines',
      'secrets:\n    - a # one\n\n# tail\nx:   1\n',
      'secrets:\n    - a # one\n    - new\n\n# tail\nx:   1\n',
    ],
    [
      'no secrets yet',
      "memory: 4GiB   # big\ngit: { name: 'D' }\n",
      "memory: 4GiB   # big\ngit: { name: 'D' }\nsecrets: [new]\n",
    ],
    ['no newline at the end', 'vcpus: 2', 'vcpus: 2\nsecrets: [new]\n'],
  ])('%s', (_, before, after) => {
    expect(withSecretListed(before, 'new')).toBe(after);
  });

  it('a name YAML would read as something else is quoted', () => {
    expect(withSecretListed('secrets: [a]\n', 'true')).toBe('secrets: [a, "true"]\n');
    expect(withSecretListed('secrets:\n  - a\n', '1e3')).toBe('secrets:\n  - a\n  - "1e3"\n');
  });

  it('a secret already listed changes nothing', () => {
    expect(withSecretListed('secrets: [ new ]  # x\n', 'new')).toBe('secrets: [ new ]  # x\n');
  });

  it("a `secrets:` without a list still gets the secret, through yaml's rendering", () => {
    expect(withSecretListed('secrets:\n', 'new')).toMatch(/^secrets:\n\s*- new\n$/);
  });
});
