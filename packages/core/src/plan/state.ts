import { z } from 'zod';
import type { ProvisionProgress } from '../provision/steps.js';
import type { BaseIdentity } from './interfaces.js';

/**
 * Per-agent progress through bring-up, in order. Provisioning extends the list after
 * "ssh-ready" (phase1, hostkey, rekeyed, phase2, ready); a phase is recorded only once the
 * step that reaches it has finished, so a killed run resumes from the last recorded phase.
 */
export const PHASES = ['declared', 'disk', 'defined', 'started', 'ssh-ready'] as const;
export type Phase = (typeof PHASES)[number];

export interface AgentRuntime {
  phase: Phase;
  /** Where the disk came from; for overlays, the base it must stay on. */
  disk?: { path: string; mode: 'copy' | 'overlay'; base: BaseIdentity };
  /** Host key seen at first contact ("ssh-ed25519 AAAA..."): pinned from then on. */
  hostKey?: string;
  /**
   * The pinned key is one fleet made before the disk's first boot and handed over through fw_cfg, and the guest
   * has presented it: the host's copy and the fw_cfg entry are gone, and provisioning has no key to learn in a
   * first rebuild. Unset for a new disk and when the pin is replaced (`--rekey`).
   */
  hostKeyHandedOver?: boolean;
  /** When fleet last started the domain (for uptime). */
  startedAt?: string;
  updatedAt: string;
  lastError?: string;
  /** Provisioning after "ssh-ready" (validated by parseProvisionProgress when read). */
  provision?: ProvisionProgress;
}

export interface FleetState {
  version: 1;
  agents: Record<string, AgentRuntime>;
}

export function emptyFleetState(): FleetState {
  return { version: 1, agents: {} };
}

export function phaseAtLeast(current: Phase | undefined, wanted: Phase): boolean {
  return current !== undefined && PHASES.indexOf(current) >= PHASES.indexOf(wanted);
}

const baseIdentity = z.object({
  path: z.string(),
  size: z.number(),
  mtimeMs: z.number(),
  headSha256: z.string(),
});

const agentRuntime = z
  .object({
    phase: z.enum(PHASES),
    disk: z.object({ path: z.string(), mode: z.enum(['copy', 'overlay']), base: baseIdentity }).optional(),
    hostKey: z.string().optional(),
    hostKeyHandedOver: z.boolean().optional(),
    startedAt: z.string().optional(),
    updatedAt: z.string(),
    lastError: z.string().optional(),
  })
  // Later phases (provisioning) add fields; keep what this version does not know.
  .loose();

const fleetState = z.object({ version: z.literal(1), agents: z.record(z.string(), agentRuntime) });

/**
 * state.json exists but cannot be used (not JSON, or not what fleet writes): a run that would
 * write it refuses; a read-only command reads around it and says what is damaged.
 */
export class DamagedStateError extends Error {
  override name = 'DamagedStateError';
}

/** Parses state.json; `source` names the file in the error. */
export function parseFleetState(text: string, source: string): FleetState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DamagedStateError(`${source}: not valid JSON: ${(err as Error).message}`);
  }
  const parsed = fleetState.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DamagedStateError(`${source}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data as FleetState;
}
