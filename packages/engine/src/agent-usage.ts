// `fleet status` usage figures and `fleet status --watch`: samples of every host's counters, CPU %
// between consecutive samples, and a fresh table whenever libvirt reports a lifecycle event.
import {
  type AgentUsage,
  type LifecycleNotice,
  type LifecycleSource,
  type UsageSample,
  type UsageSource,
  usageBetween,
} from '@agentfleet/core/usage';

/** Usage by domain name. */
export type UsageTable = Map<string, AgentUsage>;

export interface UsageHost {
  usage: UsageSource;
  events: LifecycleSource;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Keeps each domain's last sample, so every new one yields CPU % since the previous. */
class Sampler {
  private readonly last = new Map<string, UsageSample>();

  constructor(private readonly sources: UsageSource[]) {}

  async next(): Promise<UsageTable> {
    const samples = (await Promise.all(this.sources.map((s) => s.usage()))).flat();
    const table: UsageTable = new Map();
    for (const s of samples) {
      table.set(s.domain, usageBetween(this.last.get(s.domain), s));
      this.last.set(s.domain, s);
    }
    return table;
  }
}

/** Two samples `intervalMs` apart (one when nothing runs: there is no CPU to measure). */
export async function measureUsage(sources: UsageSource[], intervalMs: number): Promise<UsageTable> {
  const sampler = new Sampler(sources);
  const first = await sampler.next();
  if (![...first.values()].some((u) => u.state === 'running')) return first;
  await delay(intervalMs);
  return sampler.next();
}

export type WatchReason = { kind: 'tick' } | { kind: 'event'; event: LifecycleNotice };

export interface WatchOptions {
  hosts: UsageHost[];
  /** Stats refresh period; events refresh at once. */
  intervalMs: number;
  /** Ends the watch (Ctrl-C); the promise resolves after every subscription is closed. */
  signal: AbortSignal;
  onUpdate(usage: UsageTable, reason: WatchReason): void | Promise<void>;
}

/**
 * Calls onUpdate with a fresh table at start, after every lifecycle event, and every intervalMs,
 * until `signal` aborts. Events arriving while a refresh runs are coalesced into the next one.
 */
export async function watchUsage(opts: WatchOptions): Promise<void> {
  const sampler = new Sampler(opts.hosts.map((h) => h.usage));
  const pending: LifecycleNotice[] = [];
  let wake: (() => void) | undefined;
  const subscriptions = await Promise.all(
    opts.hosts.map((h) =>
      h.events.onLifecycle((ev) => {
        pending.push(ev);
        wake?.();
      }),
    ),
  );
  try {
    await opts.onUpdate(await sampler.next(), { kind: 'tick' });
    while (!opts.signal.aborted) {
      if (pending.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          void delay(opts.intervalMs, opts.signal).then(resolve);
        });
        wake = undefined;
      }
      if (opts.signal.aborted) break;
      const table = await sampler.next();
      const events = pending.splice(0);
      if (events.length === 0) await opts.onUpdate(table, { kind: 'tick' });
      for (const event of events) await opts.onUpdate(table, { kind: 'event', event });
    }
  } finally {
    await Promise.all(subscriptions.map((s) => s.close().catch(() => {})));
  }
}
