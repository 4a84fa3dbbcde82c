import { describe, expect, it } from 'vitest';
import { hedged } from './hedged.js';

/** An attempt that never settles on its own: it ends only when its signal is aborted (then it rejects). */
const hanging = (signals: AbortSignal[]) => (_t: number, signal: AbortSignal) => {
  signals.push(signal);
  return new Promise<string>((_resolve, reject) =>
    signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
  );
};

describe('hedged', () => {
  it('resolves with a later attempt while an earlier one hangs, then aborts the one still waiting', async () => {
    const signals: AbortSignal[] = [];
    const hang = hanging(signals);
    let calls = 0;
    const value = await hedged(
      (t, signal) => (++calls === 1 ? hang(t, signal) : Promise.resolve(`attempt ${calls}`)),
      60_000,
      5,
    );
    expect(value).toBe('attempt 2');
    // The stuck attempt would otherwise hold its socket and timer (and the process) until its 60 s timeout.
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(true);
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toBe(2); // no attempt starts after the winner
  });

  it('rejects with the last error once every attempt started has failed', async () => {
    let calls = 0;
    const err = await hedged(
      (t) => new Promise((_r, reject) => setTimeout(() => reject(new Error(`attempt ${++calls} failed`)), t)),
      40,
      15,
    ).catch((e: Error) => e);
    expect(calls).toBeGreaterThan(1); // later attempts were started while the first still waited
    expect((err as Error).message).toBe(`attempt ${calls} failed`);
  });

  it('replaces a refused attempt after retryMs while an earlier one hangs, not at the next spacing', async () => {
    const signals: AbortSignal[] = [];
    const hang = hanging(signals);
    const started: number[] = [];
    const t0 = Date.now();
    // Attempt 1 hangs (a probe stuck in the forwarder); 2-4 are refused at once; 5 gets the banner.
    const value = await hedged(
      (t, signal) => {
        started.push(Date.now() - t0);
        const n = started.length;
        if (n === 1) return hang(t, signal);
        if (n < 5) return Promise.reject(new Error(`attempt ${n} refused`));
        return Promise.resolve(`attempt ${n}`);
      },
      60_000,
      1_000,
      20,
    );
    expect(value).toBe('attempt 5');
    // Attempt 2 comes at the spacing; with only the spacing, 5 would start at 4 s, not ~60 ms after 2.
    expect(started[1]).toBeGreaterThanOrEqual(1_000);
    expect(started.at(-1)).toBeLessThan(3_000);
    expect(signals[0]?.aborted).toBe(true);
  });
});
