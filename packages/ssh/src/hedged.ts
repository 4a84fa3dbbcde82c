/**
 * Runs `attempt` now and again every `spacingMs` while none has succeeded, each ending by `timeoutMs` from now: the
 * first success wins; it fails once every attempt started has failed (with the last error). A probe stuck in a
 * forwarder thus delays noticing the guest by at most `spacingMs`, yet a slow but live guest still gets a long wait.
 *
 * Once one attempt wins, the others' signal is aborted: an attempt still waiting holds a socket and a timer, which
 * would otherwise keep the process alive (and `fleet up` from returning) for the rest of its timeout.
 */
export function hedged<T>(
  attempt: (timeoutMs: number, signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  spacingMs: number,
): Promise<T> {
  const start = Date.now();
  const losers = new AbortController();
  return new Promise((resolve, reject) => {
    let running = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const launch = () => {
      const left = timeoutMs - (Date.now() - start);
      running++;
      if (left > spacingMs) timer = setTimeout(launch, spacingMs);
      attempt(Math.max(1, left), losers.signal).then(
        (value) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(value);
          losers.abort(new Error('another probe succeeded'));
        },
        (err) => {
          running--;
          if (settled || running > 0) return;
          settled = true;
          clearTimeout(timer);
          reject(err);
        },
      );
    };
    launch();
  });
}
