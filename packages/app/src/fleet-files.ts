import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Fleet, Ledger, SourceFile } from '@agentfleet/core';
import { emptyLedger } from '@agentfleet/core/ledger';
import { parseLedger } from '@agentfleet/core/ledger-file';
import { loadFleet } from '@agentfleet/core/load-fleet';
import { recordedPlacements } from '@agentfleet/core/placement';
import { ValidationError } from './errors.js';

export const FLEET_FILE = 'agents/fleet.yaml';
export const LEDGER_FILE = 'agents/ledger.yaml';

/** fleet.yaml plus every agents/<name>.yaml (ledger.yaml is not an agent), paths relative to the repo. */
export function readFleetSources(dir: string): SourceFile[] {
  const names = readdirSync(join(dir, 'agents'))
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'ledger.yaml')
    .sort();
  return names.map((f) => ({ path: `agents/${f}`, text: readFileSync(join(dir, 'agents', f), 'utf8') }));
}

/**
 * The validated fleet of the repo at `dir`, or a ValidationError with every problem. Agents fleet places (fleet.yaml
 * hosts) are on the host the ledger records; new ones stay on the default URI until allocation places them.
 */
export function readFleet(dir: string): Fleet {
  const result = loadFleet(readFleetSources(dir));
  if (!result.ok) throw new ValidationError(result.diagnostics);
  const fleet = result.value;
  return fleet.agents.some((a) => a.placed) ? recordedPlacements(fleet, readLedger(dir)) : fleet;
}

/** The committed ledger, or an empty one when the repo has none yet. */
export function readLedger(dir: string): Ledger {
  const path = join(dir, LEDGER_FILE);
  if (!existsSync(path)) return emptyLedger();
  const result = parseLedger(readFileSync(path, 'utf8'), LEDGER_FILE);
  if (!result.ok) throw new ValidationError(result.diagnostics);
  return result.value;
}

/** `~/x` -> home-relative, relative -> fleet-repo-relative, absolute unchanged. */
export function expandPath(dir: string, p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return resolve(dir, p);
}
