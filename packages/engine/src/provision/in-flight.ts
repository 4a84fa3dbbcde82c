import type { ProgressEvent } from '@agentfleet/core';

/**
 * The agents of a `fleet up` whose bring-up has started and that will be provisioned, until each
 * is done or failed: whom a shared host build round waits for (see HostBuilder). Fed with the
 * engine's progress events; agents still queued behind `--concurrency` are not waited for.
 */
export class InFlightAgents {
  private readonly willProvision = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly listeners: (() => void)[] = [];

  observe(e: ProgressEvent): void {
    if (e.type === 'plan') {
      for (const a of e.plan.actions) if (a.steps.includes('provision')) this.willProvision.add(a.agent);
    } else if (e.type === 'step' && e.status === 'start' && this.willProvision.has(e.agent)) {
      this.inFlight.add(e.agent);
    } else if (e.type === 'agent') {
      this.willProvision.delete(e.agent);
      if (this.inFlight.delete(e.agent)) for (const l of this.listeners) l();
    }
  }

  get agents(): ReadonlySet<string> {
    return this.inFlight;
  }

  onLeave(listener: () => void): void {
    this.listeners.push(listener);
  }
}
