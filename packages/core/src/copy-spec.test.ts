import { describe, expect, it } from 'vitest';
import { copyRequest, parseCopyEndpoint } from './copy-spec.js';

describe('fleet cp arguments', () => {
  it('reads AGENT:PATH as the agent side, anything else as local', () => {
    expect(parseCopyEndpoint('drago:/etc/hosts')).toEqual({
      kind: 'agent',
      agent: 'drago',
      path: '/etc/hosts',
    });
    expect(parseCopyEndpoint('drago:')).toEqual({ kind: 'agent', agent: 'drago', path: '.' });
    for (const local of ['./a:b', '/x:y', 'notes.md', 'C:x'])
      expect(parseCopyEndpoint(local)).toEqual({ kind: 'local', path: local });
  });

  it('gives the direction, or the problem when both or neither side is an agent', () => {
    expect(copyRequest('a.txt', 'drago:/tmp/')).toEqual({
      direction: 'upload',
      agent: 'drago',
      local: 'a.txt',
      remote: '/tmp/',
    });
    expect(copyRequest('drago:x', '.')).toEqual({
      direction: 'download',
      agent: 'drago',
      local: '.',
      remote: 'x',
    });
    expect(copyRequest('a', 'b')).toEqual({ problem: expect.stringContaining('AGENT:PATH') });
    expect(copyRequest('luce:a', 'drago:b')).toEqual({ problem: expect.stringContaining('two agents') });
  });
});
