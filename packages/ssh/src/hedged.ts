/**
 * Runs `attempt` now and again every `spacingMs` while none has succeeded, each ending by `timeoutMs` from now: the
 * first success wins; it fails once every attempt started has failed (with the last error). A probe stuck in a
 * forwarder thus delays noticing the guest by at most `spacingMs`, yet a slow but live guest still gets a long wait.
 *
 * An attempt that fails while others still wait is replaced after `retryMs` instead of at the next `spacingMs`: a
 * quick refusal means the path to the guest works now (its network is up, its sshd not yet), so polling at the
 * short pace notices sshd sooner, while the probes stuck from before keep waiting without new ones piling up.
 *
 * Once one attempt wins, the others' signal is aborted: an attempt still waiting holds a socket and a timer, which
 * would otherwise keep the process alive (and `fleet up` from returning) for the rest of its timeout.
 */
export function hedged<T>(
  attempt: (timeoutMs: number, signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  spacingMs: number,
  retryMs = spacingMs,
): Promise<T> {
  const start = Date.now();
  const losers = new AbortController();
  return new Promise((resolve, reject) => {
    let running = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let nextAt = Number.POSITIVE_INFINITY;
    const schedule = (ms: number) => {
      if (timeoutMs - (Date.now() - start) <= ms || Date.now() + ms >= nextAt) return;
      clearTimeout(timer);
      nextAt = Date.now() + ms;
      timer = setTimeout(launch, ms);
    };
    const launch = () => {
      nextAt = Number.POSITIVE_INFINITY;
      const left = timeoutMs - (Date.now() - start);
      running++;
      schedule(spacingMs);
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
          if (settled) return;
          if (running > 0) return schedule(retryMs);
          settled = true;
          clearTimeout(timer);
          reject(err);
        },
      );
    };
    launch();
  });
}
