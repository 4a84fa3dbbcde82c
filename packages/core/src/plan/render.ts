import type { ActionKind, AgentAction, FieldChange, FollowUp, Plan } from './types.js';

const SYMBOL: Record<ActionKind, string> = {
  create: '+',
  update: '~',
  start: '>',
  resume: '>',
  stop: '.',
  delete: '-',
  blocked: '!',
  noop: '=',
};

const VERB: Record<ActionKind, string> = {
  create: 'will be created',
  update: 'will be updated',
  start: 'will be started',
  resume: 'will be resumed (bring-up not finished)',
  stop: 'will be shut down',
  delete: 'will be destroyed',
  blocked: 'is BLOCKED',
  noop: 'is up to date',
};

/** A plan as a terraform-like text block (what `fleet plan` prints and `fleet up` shows first). */
export function renderPlan(plan: Plan): string {
  const lines: string[] = [];
  for (const a of plan.actions) lines.push(...renderAction(a), '');
  for (const f of plan.followUps ?? []) lines.push(...renderFollowUp(f), '');
  for (const o of plan.orphans ?? []) {
    lines.push(
      `? agent ${o.agent} is orphaned (not managed; \`fleet destroy ${o.agent} --purge\` removes it)`,
      `    # domain ${o.domain} on ${o.uri} (${o.state}) has agentfleet metadata but no agents/${o.agent}.yaml`,
      '',
    );
  }
  lines.push(summary(plan));
  return `${lines.join('\n')}\n`;
}

function renderAction(a: AgentAction): string[] {
  const out = [`${SYMBOL[a.kind]} agent ${a.agent} ${VERB[a.kind]}`];
  if (a.steps.length > 0) out.push(`    steps: ${a.steps.join(' -> ')}`);
  for (const c of a.changes) out.push(`    ~ ${c.field}: ${c.before ?? '(none)'} -> ${c.after ?? '(none)'}`);
  for (const r of a.reasons) out.push(`    # ${r}`);
  if (a.after && a.kind !== 'delete') {
    const d = a.after;
    out.push(
      `    ssh 127.0.0.1:${d.sshPort}  spice ${d.resources.spice ?? '-'}  cores ${d.cores.join(',') || '-'}`,
    );
    if (d.host !== undefined) out.push(`    host ${d.host} (${d.uri})`);
  }
  return out;
}

function renderFollowUp(f: FollowUp): string[] {
  const what =
    f.kind === 'retire-host-keys'
      ? `host keys of ${f.agents.join(', ')} will be retired`
      : `agent ${f.agent} will be forgotten`;
  return [`- then ${what}`, ...f.reasons.map((r) => `    # ${r}`)];
}

export function summary(plan: Plan): string {
  const count = (k: ActionKind) => plan.actions.filter((a) => a.kind === k).length;
  const parts = [
    `${count('create')} to create`,
    `${count('update')} to update`,
    `${count('start') + count('resume')} to start`,
    `${count('stop')} to stop`,
    `${count('delete')} to destroy`,
    `${count('noop')} unchanged`,
  ];
  const blocked = count('blocked');
  if (blocked > 0) parts.push(`${blocked} blocked`);
  const orphans = plan.orphans?.length ?? 0;
  if (orphans > 0) parts.push(`${orphans} orphaned`);
  const followUps = plan.followUps?.length ?? 0;
  if (followUps > 0) parts.push(`then ${followUps} follow-up${followUps > 1 ? 's' : ''}`);
  return `Plan (${plan.goal}): ${parts.join(', ')}.`;
}

/**
 * Fields whose values are implementation detail (raw QEMU arguments carry socket paths and
 * options that change between versions): --json names the change, not the values.
 */
const OPAQUE_FIELDS = new Set(['qemu-args']);

/** A change to a domain's definition as --json shows it (`plan`, `import`): opaque fields without values. */
export function changeToJson(c: FieldChange): FieldChange {
  return OPAQUE_FIELDS.has(c.field) ? { field: c.field } : c;
}

/**
 * The plan as --json's stable data (docs/json.md): what happens to each agent and where it will
 * listen, without the desired XML, spec hashes or raw QEMU arguments.
 */
export function planToJson(plan: Plan): unknown {
  return {
    goal: plan.goal,
    actions: plan.actions.map((a) => ({
      agent: a.agent,
      kind: a.kind,
      steps: a.steps,
      reasons: a.reasons,
      changes: a.changes.map(changeToJson),
      state: a.before?.domain?.state ?? null,
      phase: a.before?.provisioned ? 'ready' : (a.before?.phase ?? 'declared'),
      sshPort: a.after?.sshPort ?? null,
      spicePort: a.after?.spicePort ?? null,
      cores: a.after?.cores ?? [],
    })),
    orphans: plan.orphans ?? [],
    ...(plan.followUps && plan.followUps.length > 0 && { followUps: plan.followUps }),
  };
}

export function planHasWork(plan: Plan): boolean {
  return plan.actions.some((a) => a.steps.length > 0);
}
