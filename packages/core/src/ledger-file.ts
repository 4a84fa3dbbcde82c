import type { Result } from './diagnostics.js';
import type { Ledger } from './ledger.js';

/** Parse agents/ledger.yaml; `file` is used in diagnostics. */
export function parseLedger(_text: string, _file: string): Result<Ledger> {
  throw new Error('parseLedger: not implemented yet');
}

/** YAML text of a ledger, deterministic (sorted) so diffs stay small. */
export function renderLedger(_ledger: Ledger): string {
  throw new Error('renderLedger: not implemented yet');
}
