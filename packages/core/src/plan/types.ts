import type { DomainState } from '../hypervisor.js';
import type { DiskMode } from '../model.js';
import type { BaseIdentity } from './interfaces.js';
import type { Phase } from './state.js';

/** What the fleet declares for one agent, fully resolved (allocation, paths, XML). */
export interface DesiredAgent {
  name: string;
  /** libvirt domain name, `agent-<name>`. */
  domain: string;
  uri: string;
  /** The fleet.yaml host `uri` belongs to, when it is one. */
  host?: string;
  specHash: string;
  /** Domain XML to define. */
  xml: string;
  /** Comparable projection of `xml` (memory, vcpus, pins, ports...), field -> value. */
  resources: Record<string, string>;
  disk: { path: string; mode: DiskMode; base: string; baseIdentity: BaseIdentity };
  sshPort: number;
  spicePort: number;
  cores: number[];
  consoleLog: string;
  /** `network: isolated`: the socket of the agent's passt, which must run whenever the domain does. */
  passtSocket?: string;
  /** libvirt starts the domain when libvirtd starts (YAML `autostart`). */
  autostart: boolean;
  /**
   * `xml` hands the guest a host key fleet made (fw_cfg, from a 0600 file): once the guest presents `publicKey`,
   * it has its own copy on its disk, so the domain is redefined as `xml` here (the same domain without the entry,
   * from its next boot on) and the host's copy is removed.
   */
  hostKeyHandover?: { publicKey: string; xml: string };
}

/** What exists for one agent right now. */
export interface ActualAgent {
  name: string;
  domain?: {
    uuid: string;
    state: DomainState;
    /** Spec hash from our metadata element; undefined when the metadata was removed. */
    specHash?: string;
    resources: Record<string, string>;
    /** libvirt's autostart flag; not part of the XML, so not of the spec hash either. */
    autostart: boolean;
  };
  disk: { exists: boolean; backingFile?: string };
  /**
   * The domain named like this agent's belongs to someone else (`domain` is then unset): whose,
   * for the message, and the disk it uses, which this fleet must never delete.
   */
  foreign?: { owner: string; importable: boolean; disk?: string };
  /** The agent's other files in the state dir that exist (logs, keys...): what a purge deletes. */
  files?: { path: string; what: string }[];
  /** From state.json. */
  phase?: Phase;
  recordedBase?: BaseIdentity;
  hostKey?: string;
  /** From state.json: provisioning reached its last step (`ready`). */
  provisioned?: boolean;
}

/**
 * Steps the engine knows how to apply, in the order they run. "restart" is an ACPI shutdown
 * (forced off after a timeout) followed by a start; "stop" is the same shutdown alone.
 */
export type StepKind =
  | 'create-disk'
  | 'define'
  | 'autostart'
  | 'start'
  | 'restart'
  | 'await-ssh'
  | 'provision'
  | 'stop'
  | 'power-off'
  | 'undefine'
  | 'delete-disk'
  | 'delete-files';

/** Terraform-style summary of what happens to an agent; apply branches on the steps. */
export type ActionKind = 'noop' | 'create' | 'update' | 'start' | 'resume' | 'stop' | 'delete' | 'blocked';

export interface FieldChange {
  field: string;
  before?: string;
  after?: string;
}

export interface AgentAction {
  agent: string;
  kind: ActionKind;
  steps: StepKind[];
  /** Human reasons, for display only. */
  reasons: string[];
  changes: FieldChange[];
  before?: ActualAgent;
  after?: DesiredAgent;
  /** Set on destroy/purge of an undeclared agent's domain (named on the command line). */
  orphan?: Orphan;
}

export type PlanGoal = 'up' | 'down' | 'destroy' | 'purge';

/**
 * A libvirt domain `agent-<agent>` carrying our metadata whose agent is no longer declared. Shown,
 * never touched unless the user names it (`fleet destroy <agent> --purge`).
 */
export interface Orphan {
  agent: string;
  domain: string;
  uri: string;
  state: DomainState;
  /** The disk fleet made for it in the state dir, when it is still there. */
  disk?: string;
  /** Its other files in the state dir (logs, keys...). */
  files?: { path: string; what: string }[];
}

/**
 * Work on the fleet repository that follows the agents' steps (destroy --purge, remove): done by
 * the application under the same lock once every agent succeeded, listed with the plan so that
 * the plan shows everything the command will do.
 */
export type FollowUp =
  /** The agents' committed host keys (secrets/hosts/<agent>.pub) go; secrets that list them are re-encrypted without them. */
  | { kind: 'retire-host-keys'; agents: string[]; reasons: string[] }
  /** The agent's declaration goes: its YAML file, ledger entry and hosts/agents.json entry. */
  | { kind: 'forget-agent'; agent: string; file: string; reasons: string[] };

export interface Plan {
  goal: PlanGoal;
  actions: AgentAction[];
  /** Undeclared agents' domains not named on the command line: only listed. */
  orphans?: Orphan[];
  /** What follows once every agent's steps succeeded, in order. */
  followUps?: FollowUp[];
}
