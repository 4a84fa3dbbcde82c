import type { DomainState } from '../hypervisor.js';
import { domainTakenMessage } from '../ownership.js';
import { phaseAtLeast } from './state.js';
import type {
  ActionKind,
  ActualAgent,
  AgentAction,
  DesiredAgent,
  FieldChange,
  Orphan,
  Plan,
  PlanGoal,
  StepKind,
} from './types.js';

const ACTIVE: ReadonlySet<DomainState> = new Set(['running', 'blocked', 'paused', 'pmsuspended']);

export function isActive(state: DomainState | undefined): boolean {
  return state !== undefined && ACTIVE.has(state);
}

export interface PlanInput {
  goal: PlanGoal;
  desired: DesiredAgent[];
  actual: ActualAgent[];
  /** Provisioning after SSH is wired in (the hand-over point). */
  provision?: boolean;
  /** This fleet's domains whose agent is no longer declared. */
  orphans?: Orphan[];
  /** Orphans named on the command line: destroy/purge removes them, like declared agents. */
  named?: string[];
  /**
   * Agents whose recorded or explicit port or core something outside the fleet holds now, with the reasons: `up`
   * must not start them (the others go on). Stopping, destroying or an agent already running does not care.
   */
  held?: Readonly<Record<string, readonly string[]>>;
}

/** Desired vs actual -> one action per agent. Pure: `plan` prints it, `up`/`down` apply it. */
export function computePlan(input: PlanInput): Plan {
  const actualByName = new Map(input.actual.map((a) => [a.name, a]));
  const actions = input.desired.map((d) => {
    const actual = actualByName.get(d.name) ?? { name: d.name, disk: { exists: false } };
    if (input.goal === 'up') return planUp(d, actual, input.provision ?? false, input.held?.[d.name]);
    if (input.goal === 'down') return planDown(d, actual);
    return planDestroy(d, actual, input.goal === 'purge');
  });
  const destroying = input.goal === 'destroy' || input.goal === 'purge';
  const named = new Set(destroying ? (input.named ?? []) : []);
  const orphans = (input.orphans ?? []).filter((o) => !named.has(o.agent));
  for (const o of input.orphans ?? []) {
    if (named.has(o.agent)) actions.push(planOrphanDestroy(o, input.goal === 'purge'));
  }
  return { goal: input.goal, actions, ...(orphans.length && { orphans }) };
}

function action(
  d: DesiredAgent,
  a: ActualAgent,
  kind: ActionKind,
  steps: StepKind[],
  reasons: string[],
  changes: FieldChange[] = [],
): AgentAction {
  return { agent: d.name, kind, steps, reasons, changes, before: a, after: d };
}

function planUp(
  d: DesiredAgent,
  a: ActualAgent,
  provision: boolean,
  held: readonly string[] | undefined,
): AgentAction {
  if (a.foreign) return action(d, a, 'blocked', [], [foreignReason(d, a.foreign)]);
  const blocked = baseProblem(d, a);
  if (blocked) return action(d, a, 'blocked', [], [blocked]);

  const steps: StepKind[] = [];
  const reasons: string[] = [];
  let changes: FieldChange[] = [];
  const running = isActive(a.domain?.state);

  if (!a.disk.exists) {
    if (running)
      return action(d, a, 'blocked', [], [`disk ${d.disk.path} is missing under the running domain`]);
    steps.push('create-disk');
    reasons.push(a.domain ? `disk ${d.disk.path} is missing` : `new disk (${d.disk.mode} of ${d.disk.base})`);
  }

  if (!a.domain) {
    steps.push('define');
    reasons.push('domain not defined');
  } else if (a.domain.specHash !== d.specHash) {
    steps.push('define');
    reasons.push(
      a.domain.specHash === undefined
        ? 'domain has no agentfleet metadata (edited outside fleet)'
        : `spec changed (hash ${a.domain.specHash.slice(0, 12)} -> ${d.specHash.slice(0, 12)})`,
    );
    changes = diffResources(a.domain.resources, d.resources);
  } else {
    changes = diffResources(a.domain.resources, d.resources);
    if (changes.length > 0) {
      steps.push('define');
      reasons.push('domain edited outside fleet (its XML differs from what the spec generates)');
    }
  }

  // A flag beside the definition (virDomainSetAutostart): set without a restart; a new domain starts with it off.
  if ((a.domain?.autostart ?? false) !== d.autostart) {
    steps.push('autostart');
    reasons.push(d.autostart ? 'autostart: on' : 'autostart: off');
    changes = [...changes, { field: 'autostart', before: onOff(!d.autostart), after: onOff(d.autostart) }];
  }

  const redefined = steps.includes('define') && a.domain !== undefined;
  if (running && redefined) {
    steps.push('restart');
    reasons.push('running: restart to apply the new definition');
  } else if (!running) {
    steps.push('start');
    if (a.domain) reasons.push(`domain is ${a.domain.state}`);
  }

  const booting = steps.includes('start') || steps.includes('restart');
  // Checked before anything is made for it: a blocked agent gets no disk and no definition either.
  if (booting && held && held.length > 0) return action(d, a, 'blocked', [], [...held]);
  if (booting || !phaseAtLeast(a.phase, 'ssh-ready') || a.hostKey === undefined) {
    steps.push('await-ssh');
    if (!booting) reasons.push('running but SSH readiness not yet recorded');
  }
  // An agent whose provisioning stopped half-way (killed, failed) resumes it, even when running.
  if (provision && (steps.includes('await-ssh') || a.provisioned === false)) {
    if (!steps.includes('await-ssh')) reasons.push('provisioning not finished');
    steps.push('provision');
  }

  const rebase = baseChanged(d, a);
  if (rebase) reasons.push(rebase);

  const kind: ActionKind = !a.domain
    ? 'create'
    : steps.includes('define') || steps.includes('create-disk') || steps.includes('autostart')
      ? 'update'
      : steps.includes('start')
        ? 'start'
        : steps.length > 0
          ? 'resume'
          : 'noop';
  return action(d, a, kind, steps, reasons, changes);
}

/** An overlay only makes sense on the very base it was created from. */
function baseProblem(d: DesiredAgent, a: ActualAgent): string | undefined {
  if (!a.disk.exists) return undefined;
  const backing = a.disk.backingFile;
  if (backing !== undefined && backing !== d.disk.baseIdentity.path) {
    return `disk ${d.disk.path} is an overlay on ${backing}, but the fleet's base image is ${d.disk.baseIdentity.path}: refusing to use a different base (fleet up --rebase ${d.name} recreates the disk from it, keeping the agent's identity)`;
  }
  const rec = a.recordedBase;
  if (backing !== undefined && rec && rec.path === d.disk.baseIdentity.path) {
    const now = d.disk.baseIdentity;
    if (rec.size !== now.size || rec.headSha256 !== now.headSha256) {
      return `base image ${now.path} changed since the overlay ${d.disk.path} was created on it: refusing (fleet up --rebase ${d.name} recreates the disk from it, keeping the agent's identity)`;
    }
  }
  return undefined;
}

/**
 * A full copy keeps working after the configured base image changes (a new base, an edited
 * fleet.yaml): it just still holds the system of the base it was made from. Said, not acted on:
 * moving an agent to the new base means a new disk.
 */
function baseChanged(d: DesiredAgent, a: ActualAgent): string | undefined {
  const rec = a.recordedBase;
  const now = d.disk.baseIdentity;
  if (!a.disk.exists || a.disk.backingFile !== undefined || rec === undefined) return undefined;
  if (rec.path === now.path && rec.size === now.size && rec.headSha256 === now.headSha256) return undefined;
  const id = (b: typeof rec) => `${b.path} (sha256 of head ${b.headSha256.slice(0, 12)}, ${b.size} bytes)`;
  return `base image changed: disk ${d.disk.path} was made from ${id(rec)}, the configured base is now ${id(now)}; the agent keeps its disk: \`fleet up --rebase ${d.name}\` moves it to the new base, keeping its identity`;
}

function planDown(d: DesiredAgent, a: ActualAgent): AgentAction {
  if (!isActive(a.domain?.state)) return action(d, a, 'noop', [], []);
  return action(d, a, 'stop', ['stop'], ['ACPI shutdown, forced off after the timeout']);
}

const foreignReason = (d: DesiredAgent, f: NonNullable<ActualAgent['foreign']>) =>
  domainTakenMessage(d.name, d.domain, d.uri, { text: f.owner, importable: f.importable });

function planDestroy(d: DesiredAgent, a: ActualAgent, purge: boolean): AgentAction {
  const steps: StepKind[] = [];
  const reasons: string[] = [];
  if (a.foreign) reasons.push(foreignReason(d, a.foreign));
  if (isActive(a.domain?.state)) {
    steps.push('power-off');
    reasons.push('ACPI shutdown, forced off after a short timeout');
  }
  if (a.domain) {
    steps.push('undefine');
    reasons.push(`undefine domain ${d.domain} on ${d.uri}`);
  }
  if (a.foreign?.disk === d.disk.path) {
    reasons.push(`disk ${d.disk.path} is the other owner's: kept`);
  } else if (purge && a.disk.exists) {
    steps.push('delete-disk');
    reasons.push(`delete disk ${d.disk.path}`);
  } else if (a.disk.exists) {
    reasons.push(`disk ${d.disk.path} kept (use --purge to delete it)`);
  }
  if (purge) purgeFiles(a.files ?? [], steps, reasons);
  return action(d, a, steps.length ? 'delete' : 'noop', steps, reasons);
}

function purgeFiles(files: readonly { path: string; what: string }[], steps: StepKind[], reasons: string[]) {
  if (files.length === 0) return;
  steps.push('delete-files');
  for (const f of files) reasons.push(`delete ${f.what} ${f.path}`);
}

/** An undeclared agent's domain, named on destroy: the same steps a declared agent's would get. */
function planOrphanDestroy(o: Orphan, purge: boolean): AgentAction {
  const steps: StepKind[] = [];
  const reasons: string[] = [`agent ${o.agent} is no longer declared (no agents/${o.agent}.yaml)`];
  if (isActive(o.state)) {
    steps.push('power-off');
    reasons.push('ACPI shutdown, forced off after a short timeout');
  }
  steps.push('undefine');
  reasons.push(`undefine domain ${o.domain} on ${o.uri}`);
  if (purge && o.disk) {
    steps.push('delete-disk');
    reasons.push(`delete disk ${o.disk}`);
  } else if (o.disk) {
    reasons.push(`disk ${o.disk} kept (use --purge to delete it)`);
  }
  if (purge) purgeFiles(o.files ?? [], steps, reasons);
  return { agent: o.agent, kind: 'delete', steps, reasons, changes: [], orphan: o };
}

export function diffResources(before: Record<string, string>, after: Record<string, string>): FieldChange[] {
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const changes: FieldChange[] = [];
  for (const field of fields) {
    if (before[field] === after[field]) continue;
    const change: FieldChange = { field };
    if (field in before) change.before = before[field];
    if (field in after) change.after = after[field];
    changes.push(change);
  }
  return changes;
}

const onOff = (on: boolean) => (on ? 'on' : 'off');
