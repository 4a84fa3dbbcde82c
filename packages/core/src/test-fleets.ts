// Test helper (not exported from the package): fleets from terse agent YAML snippets.
import { formatDiagnostic } from './diagnostics.js';
import { loadFleet } from './load-fleet.js';
import type { Fleet } from './model.js';

/** A fleet from `fleet.yaml` text and agent name -> extra YAML lines (git email is filled in). */
export function fleetOf(agents: Record<string, string>, fleetYaml = '{}'): Fleet {
  const files = [
    { path: 'agents/fleet.yaml', text: fleetYaml },
    ...Object.entries(agents).map(([name, yaml]) => ({
      path: `agents/${name}.yaml`,
      text: `git: { email: ${name}@example.com }\n${yaml}\n`,
    })),
  ];
  const r = loadFleet(files);
  if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
  return r.value;
}
