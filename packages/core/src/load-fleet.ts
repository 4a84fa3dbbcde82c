import type { Result } from './diagnostics.js';
import type { Fleet } from './model.js';

export interface SourceFile {
  /** As shown in diagnostics, e.g. `agents/drago.yaml`. The fleet file's basename is `fleet.yaml`. */
  path: string;
  text: string;
}

/** Parse + validate + normalize agents/fleet.yaml and agents/<name>.yaml; all errors at once. */
export function loadFleet(_files: readonly SourceFile[]): Result<Fleet> {
  throw new Error('loadFleet: not implemented yet');
}
