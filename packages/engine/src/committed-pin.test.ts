import { describe, expect, it } from 'vitest';
import { pinnedHostKey } from './committed-pin.js';

const committed = async () => 'ssh-ed25519 AAAAcommitted';

describe('pinnedHostKey', () => {
  it('state.json first; without a record (state lost) the committed key; none for a disk fleet just made', async () => {
    expect(
      await pinnedHostKey({ phase: 'ssh-ready', updatedAt: '', hostKey: 'ssh-ed25519 AAAAstate' }, committed),
    ).toBe('ssh-ed25519 AAAAstate');
    expect(await pinnedHostKey(undefined, committed)).toBe('ssh-ed25519 AAAAcommitted');
    expect(
      await pinnedHostKey(
        {
          phase: 'disk',
          updatedAt: '',
          disk: { path: '/d', mode: 'overlay', base: { path: '/b', size: 1, mtimeMs: 0, headSha256: '' } },
        },
        committed,
      ),
    ).toBeUndefined();
    expect(await pinnedHostKey(undefined, undefined)).toBeUndefined();
  });
});
